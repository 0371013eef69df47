"""The hostile-mail tests call tools directly, with the same context as the tool tests."""

from tests.tools.conftest import ctx

__all__ = ["ctx"]
