"""Import only the AWS provider submodules the project uses.

``import cdktf_cdktf_provider_aws.vpc`` first runs the package's root ``__init__``, which imports all
~1500 resource submodules: about 9.6 s of a 14 s synth on this machine class. Registering the
package without running that ``__init__`` lets each ``from cdktf_cdktf_provider_aws.<x> import ...``
load just ``_jsii`` (the assembly, which node needs anyway) and ``<x>``. The classes, and so the
synthesized JSON, are the same objects either way; a test synthesizes once with the full import
done first (which makes this a no-op) and compares both outputs byte for byte.
"""

from __future__ import annotations

import importlib.util
import sys

PACKAGE = "cdktf_cdktf_provider_aws"


def install() -> None:
    """Register the provider package without its root ``__init__``; a no-op if already imported."""
    if PACKAGE in sys.modules:
        return
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.submodule_search_locations is None:
        return  # not installed: the real import will raise the usual, clear ImportError
    # module_from_spec sets __path__, __spec__ and __loader__, so submodule imports resolve
    # normally; skipping exec_module is what skips the root __init__.
    sys.modules[PACKAGE] = importlib.util.module_from_spec(spec)
