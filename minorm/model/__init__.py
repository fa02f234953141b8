"""Models: pydantic models compiled to SQLAlchemy tables (DESIGN.md section 4)."""

from minorm.model.base import Model, ModelMetaclass
from minorm.model.meta import MetaInfo

__all__ = ["MetaInfo", "Model", "ModelMetaclass"]
