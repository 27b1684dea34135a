using Granary.Core.Security;
using System.Text.Json.Nodes;
using Granary.Definitions;
using Granary.Grains.Online;
using Granary.Grains.Registry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Granary.Gateway.Catalog;

/// <summary>
/// The feature catalog's answers as JSON: search over feature views, features, on-demand views, feature services and
/// entities; a feature view's detail (schema, TTL, SLA, owner, tags, source, services and models, freshness, the last
/// materializations, its registry history with diffs). Reads the registry grain, not the cache: materialization intervals
/// are recorded without a new registry version, and a catalog page wants the newest.
/// </summary>
public sealed class CatalogQueries(IGrainFactory grains, TimeProvider time, IOptions<GatewayOptions> options, IServiceProvider services, IConfiguration configuration)
{
    /// <summary>The kinds search knows, as the API names them.</summary>
    public static readonly IReadOnlyList<string> Kinds = ["feature_view", "feature", "on_demand_feature_view", "feature_service", "entity"];

    /// <summary>How many registry versions a view's history looks back over.</summary>
    public const int HistoryDepth = 50;

    /// <summary>How many recorded materialization intervals a view's detail lists (newest first).</summary>
    public const int IntervalsShown = 10;

    /// <summary>Configuration key of the Orleans dashboard the UI links to when this gateway does not serve one (e.g. a silo's <c>http://silo:8080/dashboard/</c>).</summary>
    public const string DashboardUrlKey = "Granary:Gateway:DashboardUrl";

    private string Project => options.Value.Project;

    /// <summary>The dashboard the UI links to: this gateway's own, else <see cref="DashboardUrlKey"/>, else none.</summary>
    public string? DashboardUrl => GatewayDashboard.IsServed(services) ? GatewayDashboard.RoutePrefix + "/" : configuration[DashboardUrlKey];

    private IRegistryGrain Registry => grains.GetGrain<IRegistryGrain>(Project);

    /// <summary>
    /// The project's current snapshot; 404 when nothing was applied yet. With <paramref name="visible"/>, what it keeps
    /// of it (the objects the caller may describe).
    /// </summary>
    public async Task<RegistrySnapshot> SnapshotAsync(Func<RegistrySnapshot, RegistrySnapshot>? visible = null)
    {
        var snapshot = await Registry.GetSnapshotAsync();
        if (snapshot.Version == 0)
            throw new GatewayNotFoundException($"project '{Project}' has no registry version yet", "run 'granary apply' in the feature repository first");
        return visible is null ? snapshot : visible(snapshot);
    }

    /// <summary>
    /// Objects whose name contains <paramref name="text"/> (case-insensitive), that carry <paramref name="tag"/>
    /// (<c>key</c>, <c>key=value</c> or <c>key:value</c>) and whose owner contains <paramref name="owner"/>; every filter is optional.
    /// </summary>
    public async Task<JsonObject> SearchAsync(string? text, string? tag, string? owner, string? kind, Func<RegistrySnapshot, RegistrySnapshot>? visible = null)
    {
        if (kind is not null && !Kinds.Contains(kind))
            throw new GatewayRequestException($"kind '{kind}' is not a catalog kind; known: {string.Join(", ", Kinds)}", "leave kind out to search every kind");
        var snapshot = await SnapshotAsync(visible);
        var tagFilter = TagFilter.Parse(tag);
        var results = new JsonArray();

        bool Matches(string name, RegistryObject tagsFrom, string? objectOwner)
            => (string.IsNullOrEmpty(text) || name.Contains(text, StringComparison.OrdinalIgnoreCase))
               && tagFilter.Matches(tagsFrom.Tags)
               && (string.IsNullOrEmpty(owner) || (objectOwner ?? "").Contains(owner, StringComparison.OrdinalIgnoreCase));
        bool Wanted(string k) => kind is null || kind == k;

        var now = time.GetUtcNow();
        foreach (var view in snapshot.FeatureViews)
        {
            var viewOwner = OwnerOf(view);
            if (Wanted("feature_view") && Matches(view.Name, view, viewOwner))
            {
                var item = Item("feature_view", view.Name, view, viewOwner);
                item["freshness"] = FreshnessJson(ViewFreshness.Evaluate(view, snapshot.MaterializationIntervals.GetValueOrDefault(view.Name), now));
                results.Add(item);
            }
            if (!Wanted("feature")) continue;
            // A feature has no tags or owner of its own: it is found by its view's.
            foreach (var feature in view.Features)
            {
                if (!Matches(feature.Name, view, viewOwner)) continue;
                var item = Item("feature", feature.Name, view, viewOwner);
                item["description"] = feature.Description;
                item["feature_view"] = view.Name;
                item["type"] = feature.Type.ToString();
                results.Add(item);
            }
        }
        foreach (var odfv in snapshot.OnDemandFeatureViews)
            if (Wanted("on_demand_feature_view") && Matches(odfv.Name, odfv, OwnerOf(odfv)))
            {
                var item = Item("on_demand_feature_view", odfv.Name, odfv, OwnerOf(odfv));
                item["sources"] = Strings(odfv.Sources);
                results.Add(item);
            }
        foreach (var service in snapshot.FeatureServices)
            if (Wanted("feature_service") && Matches(service.Name, service, OwnerOf(service)))
            {
                var item = Item("feature_service", service.Name, service, OwnerOf(service));
                item["model"] = ModelOf(service);
                item["feature_views"] = Strings(service.Projections.Select(p => p.View).Distinct());
                results.Add(item);
            }
        foreach (var entity in snapshot.Entities)
            if (Wanted("entity") && Matches(entity.Name, entity, OwnerOf(entity)))
            {
                var item = Item("entity", entity.Name, entity, OwnerOf(entity));
                item["join_key"] = entity.JoinKey;
                item["value_type"] = entity.ValueType.ToString();
                item["feature_views"] = Strings(snapshot.FeatureViews.Where(v => v.Entities.Contains(entity.Name)).Select(v => v.Name));
                results.Add(item);
            }

        return new JsonObject
        {
            ["project"] = snapshot.Project,
            ["registry_version"] = snapshot.Version,
            ["query"] = new JsonObject { ["q"] = text, ["tag"] = tag, ["owner"] = owner, ["kind"] = kind },
            ["results"] = results,
        };
    }

    /// <summary>Every feature view with its freshness: the catalog's front page.</summary>
    public async Task<JsonObject> ListViewsAsync(Func<RegistrySnapshot, RegistrySnapshot>? visible = null)
    {
        var snapshot = await SnapshotAsync(visible);
        var now = time.GetUtcNow();
        var views = new JsonArray();
        foreach (var view in snapshot.FeatureViews)
        {
            var item = Item("feature_view", view.Name, view, OwnerOf(view));
            item["online"] = view.Online;
            item["features"] = view.Features.Count;
            item["freshness"] = FreshnessJson(ViewFreshness.Evaluate(view, snapshot.MaterializationIntervals.GetValueOrDefault(view.Name), now));
            views.Add(item);
        }
        return new JsonObject { ["project"] = snapshot.Project, ["registry_version"] = snapshot.Version, ["dashboard_url"] = DashboardUrl, ["feature_views"] = views };
    }

    /// <summary>Everything about one feature view; 404 naming the known views when <paramref name="name"/> is not one.</summary>
    public async Task<JsonObject> ViewAsync(string name, Func<RegistrySnapshot, RegistrySnapshot>? visible = null)
    {
        var snapshot = await SnapshotAsync(visible);
        var view = snapshot.FindFeatureView(name);
        if (view is null)
        {
            var hint = snapshot.FindOnDemandFeatureView(name) is not null
                ? $"'{name}' is an on-demand feature view; the catalog's view pages cover feature views (search finds it)"
                : "search the catalog (/api/catalog/search?q=...) for the name";
            throw new GatewayNotFoundException($"feature view '{name}' is not in the registry of project '{snapshot.Project}'; known: {OnlineFeatureQueries.Known(snapshot.FeatureViews.Select(v => v.Name))}", hint);
        }

        var intervals = snapshot.MaterializationIntervals.GetValueOrDefault(view.Name) ?? [];
        var status = await grains.GetGrain<IMaterializationGrain>($"{Project}/{view.Name}").GetStatusAsync();
        var services = snapshot.FeatureServices.Where(s => s.Projections.Any(p => p.View == view.Name)).ToList();

        var detail = Item("feature_view", view.Name, view, OwnerOf(view));
        detail["project"] = snapshot.Project;
        detail["registry_version"] = snapshot.Version;
        detail["online"] = view.Online;
        detail["ttl"] = view.HasTtl ? DurationText.Format(view.Ttl!.Value) : null;
        detail["freshness_sla"] = ViewFreshness.SlaOf(view) is { } sla ? DurationText.Format(sla) : null;
        detail["materialize_every"] = view.MaterializeEvery is { } every ? DurationText.Format(every) : null;
        detail["entities"] = new JsonArray(view.Entities.Select(e => (JsonNode)EntityJson(e, snapshot.FindEntity(e))).ToArray());
        detail["features"] = new JsonArray(view.Features.Select(f => (JsonNode)new JsonObject
        {
            ["name"] = f.Name, ["type"] = f.Type.ToString(), ["description"] = f.Description, ["tags"] = Tags(f.Tags),
            ["pii"] = PiiCatalog.IsPii(view, f, out _),
        }).ToArray());
        detail["source"] = SourceJson(view.Source, snapshot);
        detail["feature_services"] = new JsonArray(services.Select(s => (JsonNode)new JsonObject
        {
            ["name"] = s.Name,
            ["model"] = ModelOf(s),
            ["features"] = Strings(s.Projections.Where(p => p.View == view.Name).SelectMany(p => p.Features.Count == 0 ? view.Features.Select(f => f.Name) : p.Features).Distinct()),
        }).ToArray());
        detail["models"] = Strings(services.Select(ModelOf).Distinct().Order(StringComparer.Ordinal));
        detail["freshness"] = FreshnessJson(ViewFreshness.Evaluate(view, intervals, time.GetUtcNow()));
        detail["quality_gate"] = QualityGateJson.Of(view, status.QualityGate);
        detail["materialization"] = new JsonObject
        {
            ["last_run"] = RunJson(status),
            ["intervals"] = new JsonArray(intervals.OrderByDescending(i => i.RecordedAt).Take(IntervalsShown).Select(i => (JsonNode)new JsonObject
            {
                ["start"] = i.Start, ["end"] = i.End, ["recorded_at"] = i.RecordedAt,
            }).ToArray()),
            ["intervals_recorded"] = intervals.Count,
        };
        detail["history"] = await HistoryAsync(view.Name, snapshot);
        return detail;
    }

    /// <summary>
    /// The registry versions (newest first, over the last <see cref="HistoryDepth"/>) that added, changed or removed the
    /// view, each with its field-level diff against the version before.
    /// </summary>
    private async Task<JsonArray> HistoryAsync(string viewName, RegistrySnapshot current)
    {
        var history = await Registry.GetHistoryAsync();
        var recent = history.Where(h => h.Version > current.Version - HistoryDepth && h.Version <= current.Version).OrderBy(h => h.Version).ToList();
        var result = new JsonArray();
        if (recent.Count == 0) return result;
        var versions = await Task.WhenAll(recent.Select(h => h.Version == current.Version ? Task.FromResult(current) : Registry.GetVersionAsync(h.Version)));
        var before = recent[0].Version > 1 ? await Registry.GetVersionAsync(recent[0].Version - 1) : new RegistrySnapshot { Project = current.Project };
        var entries = new List<JsonObject>();
        for (var i = 0; i < recent.Count; i++)
        {
            var after = versions[i];
            var change = RegistryDiff.Compute(before, after).Changes.FirstOrDefault(c => c.Kind == ObjectKind.FeatureView && c.Name == viewName);
            before = after;
            if (change is null) continue;
            entries.Add(new JsonObject
            {
                ["version"] = recent[i].Version,
                ["created_at"] = recent[i].CreatedAt,
                ["summary"] = recent[i].Summary,
                ["change"] = change.Change.ToString().ToLowerInvariant(),
                ["fields"] = new JsonArray(change.Fields.Select(f => (JsonNode)new JsonObject { ["field"] = f.Field, ["before"] = f.Before, ["after"] = f.After }).ToArray()),
            });
        }
        for (var i = entries.Count - 1; i >= 0; i--) result.Add(entries[i]);
        return result;
    }

    /// <summary>A view's owner: its <c>owner</c> field, else its <c>owner</c> tag. Other objects have only the tag.</summary>
    public static string? OwnerOf(RegistryObject o)
        => (o as FeatureView)?.Owner ?? o.Tags.GetValueOrDefault("owner");

    /// <summary>The model a feature service feeds: its <c>model</c> tag, else its name (Feast's convention: one service per model version).</summary>
    public static string ModelOf(FeatureService service)
        => service.Tags.TryGetValue("model", out var model) && !string.IsNullOrWhiteSpace(model) ? model : service.Name;

    private static JsonObject Item(string kind, string name, RegistryObject o, string? owner) => new()
    {
        ["kind"] = kind,
        ["name"] = name,
        ["description"] = o.Description,
        ["owner"] = owner,
        ["tags"] = Tags(o.Tags),
    };

    private static JsonObject Tags(IReadOnlyDictionary<string, string> tags)
    {
        var json = new JsonObject();
        foreach (var (k, v) in tags.OrderBy(t => t.Key, StringComparer.Ordinal)) json[k] = v;
        return json;
    }

    private static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());

    private static JsonObject EntityJson(string name, Entity? entity) => new()
    {
        ["name"] = name, ["join_key"] = entity?.JoinKey, ["value_type"] = entity?.ValueType.ToString(),
    };

    /// <summary>The source: its kind, where it reads (path, table or query; a push source's batch source, nested), its time columns and mapping.</summary>
    private static JsonObject SourceJson(string name, RegistrySnapshot snapshot, int depth = 0)
    {
        var source = snapshot.FindDataSource(name);
        var json = new JsonObject { ["name"] = name };
        if (source is null) return json;
        json["kind"] = source switch { FileSource => "file", PostgresSource => "postgres", PushSource => "push", _ => "request" };
        json["description"] = source.Description;
        switch (source)
        {
            case FileSource file: json["path"] = file.Path; break;
            case PostgresSource pg: json["table"] = pg.Table; json["query"] = pg.Query; break;
            case PushSource push: json["batch"] = depth == 0 ? SourceJson(push.BatchSource, snapshot, depth + 1) : new JsonObject { ["name"] = push.BatchSource }; break;
        }
        json["timestamp_field"] = source.TimestampField;
        json["created_timestamp_field"] = source.CreatedTimestampField;
        json["field_mapping"] = Tags(source.FieldMapping);
        json["tags"] = Tags(source.Tags);
        return json;
    }

    private static JsonObject FreshnessJson(ViewFreshnessReport report) => new()
    {
        ["status"] = ViewFreshness.Name(report.State),
        ["stale"] = report.IsStale,
        ["age_seconds"] = report.Age is { } age ? Math.Round(age.TotalSeconds) : null,
        ["sla_seconds"] = report.Sla is { } sla ? sla.TotalSeconds : null,
        ["fresh_as_of"] = report.FreshAsOf,
        ["rule"] = "now - end of the newest materialization interval; stale when over freshness_sla",
    };

    private static JsonObject RunJson(MaterializationStatus s) => new()
    {
        ["state"] = s.State.ToString().ToLowerInvariant(),
        ["start"] = s.State == MaterializationRunState.Idle ? null : s.Start,
        ["end"] = s.State == MaterializationRunState.Idle ? null : s.End,
        ["partitions"] = s.Partitions,
        ["partitions_done"] = s.PartitionsDone,
        ["progress"] = s.Partitions > 0 ? Math.Round((double)s.PartitionsDone / s.Partitions, 4) : s.State == MaterializationRunState.Succeeded ? 1.0 : 0.0,
        ["rows_written"] = s.RowsWritten,
        ["started_at"] = s.StartedAt,
        ["finished_at"] = s.FinishedAt,
        ["resumes"] = s.Resumes,
        ["error"] = s.Error,
    };

    /// <summary>The search's tag filter: <c>key</c> (the key is set, or some tag has that value), or <c>key=value</c> / <c>key:value</c> (that pair).</summary>
    private readonly record struct TagFilter(string? Key, string? Value)
    {
        public static TagFilter Parse(string? tag)
        {
            if (string.IsNullOrWhiteSpace(tag)) return default;
            var at = tag.IndexOfAny(['=', ':']);
            return at < 0 ? new(tag.Trim(), null) : new(tag[..at].Trim(), tag[(at + 1)..].Trim());
        }

        public bool Matches(IReadOnlyDictionary<string, string> tags)
        {
            if (Key is null) return true;
            foreach (var (k, v) in tags)
            {
                var keyMatches = string.Equals(k, Key, StringComparison.OrdinalIgnoreCase);
                if (Value is null ? keyMatches || string.Equals(v, Key, StringComparison.OrdinalIgnoreCase)
                                  : keyMatches && string.Equals(v, Value, StringComparison.OrdinalIgnoreCase))
                    return true;
            }
            return false;
        }
    }
}
