"""labkit: an exploratory lab for the Linux kexec loader and kexec-based hibernation."""
__version__ = "0.1.0"
