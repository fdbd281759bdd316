"""One dynamic provider a module, over base.py (which says why the old paths stay)."""
