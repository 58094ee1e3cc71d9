"""A module that imports a package that does not exist, for the CLI tests."""

import databridge_no_such_dependency  # type: ignore[import-not-found]  # noqa: F401
