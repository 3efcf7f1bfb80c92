using System.Text;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Planning;

namespace FisherUnlearn.Tool.Output;

/// <summary>The readable form of a plan: a headline, a table (model, role, why) and the work order.</summary>
internal static class PlanText
{
    public static string Render(RemovalPlan plan, RemovalManifest removal)
    {
        var text = new StringBuilder();
        text.Append($"Removal '{plan.RemovalId}' ({Describe(removal)}): ");
        if (plan.IsEmpty)
        {
            text.Append($"nothing to do, no model learned it ({plan.Unaffected.Count} unaffected).\n");
            return text.ToString();
        }

        var descendants = plan.Affected.Count - plan.Roots.Count;
        text.Append($"{plan.Affected.Count} affected ({plan.Roots.Count} root{(plan.Roots.Count == 1 ? "" : "s")}, {descendants} descendant{(descendants == 1 ? "" : "s")}), {plan.Unaffected.Count} unaffected.\n\n");
        var table = new TextTable("MODEL", "ROLE", "WHY");
        foreach (var model in plan.Affected)
        {
            table.Add(model.Id, model.Role == ModelRole.Root ? "root" : "descendant", model.Reason);
        }

        text.Append(table);
        text.Append('\n');
        text.Append("Work order:\n");
        for (var i = 0; i < plan.Waves.Count; i++)
        {
            text.Append($"  {i + 1}. {string.Join(", ", plan.Waves[i])}\n");
        }

        if (plan.Unaffected.Count > 0)
        {
            text.Append($"Unaffected: {string.Join(", ", plan.Unaffected)}\n");
        }

        return text.ToString();
    }

    public static string Describe(RemovalManifest removal)
    {
        var parts = new List<string>();
        if (removal.Labels.Count > 0)
        {
            parts.Add($"forget label{(removal.Labels.Count == 1 ? "" : "s")} {string.Join(", ", removal.Labels)}");
        }

        foreach (var group in removal.Samples.GroupBy(s => (s.Dataset, s.Split)))
        {
            parts.Add($"forget {group.Sum(s => s.Indices.Count)} {group.Key.Split} sample(s) of {group.Key.Dataset}");
        }

        return string.Join("; ", parts);
    }
}
