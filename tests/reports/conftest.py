from tests.reports.helpers import _catalogue, events  # noqa: F401  (fixtures)
