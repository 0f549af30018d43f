"""AWS building blocks, one per file. This package only re-exports them.

The first statement makes every ``cdktf_cdktf_provider_aws.<x>`` import below (and anywhere after
this package is imported) load only that submodule: see ``provider_import``.
"""

# ruff: noqa: E402
import provider_import

provider_import.install()

from .beanstalk import Beanstalk
from .cache import Cache
from .cluster import Cluster
from .database import Database
from .domain import Domain
from .frontend import Frontend
from .job import Job
from .kms import PlatformKey
from .load_balancer import LoadBalancer, ServiceTarget
from .monitoring import Monitoring
from .network import Network
from .provider import AwsProviders, state_backend
from .queue import Queue
from .repository import Repository
from .security_groups import SecurityGroups
from .service import Service
from .waf import ManagedRuleGroup, WebAcl

__all__ = [
    "AwsProviders",
    "Beanstalk",
    "Cache",
    "Cluster",
    "Database",
    "Domain",
    "Frontend",
    "Job",
    "LoadBalancer",
    "ManagedRuleGroup",
    "Monitoring",
    "Network",
    "PlatformKey",
    "Queue",
    "Repository",
    "SecurityGroups",
    "Service",
    "ServiceTarget",
    "WebAcl",
    "state_backend",
]
