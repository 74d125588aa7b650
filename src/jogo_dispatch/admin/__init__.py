"""The admin console (``/admin``): officers and their phones, agencies and their logins, categories,
routing rules, Open311 keys, appeals, users and roles, and the audit log."""
