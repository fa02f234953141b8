from tests.cli.project import make_project

__all__ = ["make_project"]
