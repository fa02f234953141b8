"""Relations between models: the layer between models and querysets (DESIGN.md section 2).

`Relation` describes one way from a model to another, `ModelPaths` turns related lookup paths
into sub-queries and joins, `RelatedManager` serves reverse and many-to-many accessors, and
`prefetch` loads related rows for many instances in one query per relation.
"""

from minorm.relations.graph import Relation, pk_value
from minorm.relations.managers import RelatedDescriptor, RelatedManager
from minorm.relations.paths import Level, LoaderFactory, LoadPlan, ModelPaths
from minorm.relations.prefetch import Prefetch

__all__ = [
    "Level",
    "LoadPlan",
    "LoaderFactory",
    "ModelPaths",
    "Prefetch",
    "RelatedDescriptor",
    "RelatedManager",
    "Relation",
    "pk_value",
]
