"""Components: the unit of the platform (model), the stock ones, and how a project's are selected.

``Component`` (in ``model``) carries a blueprint, typed props from config, typed outputs, dependencies, images,
functions and scenarios; ``select(project)`` returns the components of a project in dependency order.
"""

from dsplatform.components.discovery import ENTRY_POINT_GROUP, project_root, select, stock_components
from dsplatform.components.model import Component, Context, Function, Image

__all__ = [
    "ENTRY_POINT_GROUP", "Component", "Context", "Function", "Image", "project_root", "select", "stock_components",
]
