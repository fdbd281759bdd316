"""CertificateCheck's old home, now components/fly/providers/certificate_check.py: states pickled
before the move name its provider here (components/fly/providers/base.py)."""

from components.fly.providers.certificate_check import CertificateCheck, CertificateCheckProvider

__all__ = ["CertificateCheck", "CertificateCheckProvider"]
