"""AWS building blocks, one per file. This package only re-exports them.

The first statement makes every ``cdktf_cdktf_provider_aws.<x>`` import below (and anywhere after
this package is imported) load only that submodule: see ``provider_import``.
"""

# ruff: noqa: E402
import provider_import

provider_import.install()

from .beanstalk import Beanstalk, BeanstalkProps, CacheConnection, DatabaseConnection, EnvironmentSecret
from .cache import Cache, CacheProps
from .cluster import CapacityShare, Cluster, ClusterProps
from .database import Database, DatabaseProps
from .frontend import Frontend, FrontendProps
from .kms import PlatformKey, PlatformKeyProps
from .load_balancer import LoadBalancer, LoadBalancerProps, ServiceTarget, TargetProps
from .monitoring import Monitoring
from .network import Network, NetworkProps
from .provider import AwsProviders, AwsProviderVersion, BackendProps, ProviderProps, aws_provider, state_backend
from .registry import Registry, RegistryProps
from .security_groups import SecurityGroups, SecurityGroupsProps
from .service import ContainerHealthCheck, Service, ServiceAutoscaling, ServiceProps
from .waf import ManagedRuleGroup, WebAcl, WebAclProps

__all__ = [
    "AwsProviderVersion",
    "AwsProviders",
    "BackendProps",
    "Beanstalk",
    "BeanstalkProps",
    "Cache",
    "CacheConnection",
    "CacheProps",
    "CapacityShare",
    "Cluster",
    "ClusterProps",
    "ContainerHealthCheck",
    "Database",
    "DatabaseConnection",
    "DatabaseProps",
    "EnvironmentSecret",
    "Frontend",
    "FrontendProps",
    "LoadBalancer",
    "LoadBalancerProps",
    "ManagedRuleGroup",
    "Monitoring",
    "Network",
    "NetworkProps",
    "PlatformKey",
    "PlatformKeyProps",
    "ProviderProps",
    "Registry",
    "RegistryProps",
    "SecurityGroups",
    "SecurityGroupsProps",
    "Service",
    "ServiceAutoscaling",
    "ServiceProps",
    "ServiceTarget",
    "TargetProps",
    "WebAcl",
    "WebAclProps",
    "aws_provider",
    "state_backend",
]
