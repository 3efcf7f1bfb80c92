using FisherUnlearn.Lineage.Diagnostics;

namespace FisherUnlearn.Lineage.Manifests;

public sealed record ParentLink(string Id, Relation Relation, SourceLocation Location);
