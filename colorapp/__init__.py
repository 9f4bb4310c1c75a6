"""ColorApp's Qt desktop application.

The package shows photos, collects the user's choices and hands the work to
``engine``: it never imports torch or touches tensors itself.
"""

ORGANIZATION_NAME = "ColorApp"
APPLICATION_NAME = "ColorApp"
