"""Where App, AppSecrets, IpAddress, Certificate and UpstashRedis and their providers lived
until each moved to a module of its own under components/fly/providers/.

A stack's state names each provider class by this module's path (a dill pickle by
reference: components/fly/providers/base.py), and refresh and destroy unpickle it: these
names stay importable here for as long as some state may hold one. New code imports
from components.fly.providers.
"""

from components.fly.providers.app import App, AppProvider
from components.fly.providers.app_secrets import AppSecrets, AppSecretsProvider
from components.fly.providers.certificate import Certificate, CertificateProvider
from components.fly.providers.ip_address import IpAddress, IpAddressProvider
from components.fly.providers.upstash_redis import UpstashRedis, UpstashRedisProvider

__all__ = [
    "App",
    "AppProvider",
    "AppSecrets",
    "AppSecretsProvider",
    "Certificate",
    "CertificateProvider",
    "IpAddress",
    "IpAddressProvider",
    "UpstashRedis",
    "UpstashRedisProvider",
]
