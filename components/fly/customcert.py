"""CustomCertificate's old home, now components/fly/providers/custom_certificate.py: states pickled
before the move name its provider here (components/fly/providers/base.py)."""

from components.fly.providers.custom_certificate import CustomCertificate, CustomCertificateProvider

__all__ = ["CustomCertificate", "CustomCertificateProvider"]
