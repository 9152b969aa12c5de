"""The allcare web application: REST API (``allcare.web.api``) and pages (``allcare.web.pages``)."""
