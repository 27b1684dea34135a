using Granary.Definitions;
using Granary.Offline;
using Granary.Online;

namespace Granary.Serving;

/// <summary>
/// An online read as Feast's <c>get_online_features</c> takes it: entity rows given column by column (join keys, and
/// request data for on-demand views), and what to read (feature references or a feature service, planned by
/// <see cref="HistoricalRetrievalPlanner"/>: the same plan, and the same compiled transforms, as the offline path).
/// </summary>
public sealed record OnlineFeaturesRequest
{
    /// <summary>The project.</summary>
    public required string Project { get; init; }
    /// <summary>Entity columns by name (join keys, request data), all of the same length: one value per entity row.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<object?>> Entities { get; init; }
    /// <summary>The plan of views, features and on-demand views to read.</summary>
    public required HistoricalRetrievalPlan Plan { get; init; }
}

/// <summary>
/// Feast's column-major answer: <see cref="FeatureNames"/> (join keys first, then features in request order) and one
/// result column per name, each with a value, a status and an event timestamp per entity row.
/// </summary>
public sealed record OnlineFeaturesResponse(IReadOnlyList<string> FeatureNames, IReadOnlyList<OnlineFeatureColumn> Results);

/// <summary>One column of <see cref="OnlineFeaturesResponse"/>: per entity row, value, status and event timestamp (null when none).</summary>
public sealed record OnlineFeatureColumn(object?[] Values, FeatureStatus[] Statuses, DateTimeOffset?[] EventTimestamps)
{
    /// <summary>
    /// Per entity row, whether the value came from an entity grain's cache while the online store was unreachable
    /// (the last-known-good answer); null when no row of the column did, which is the usual case.
    /// </summary>
    public bool[]? ServedFromCache { get; set; }

    /// <summary>Whether any row of the column was served from cache.</summary>
    public bool AnyServedFromCache => ServedFromCache is not null;

    /// <summary>Whether row <paramref name="row"/> was served from cache.</summary>
    public bool IsServedFromCache(int row) => ServedFromCache is { } flags && flags[row];

    /// <summary>Flags row <paramref name="row"/> as served from cache.</summary>
    public void MarkServedFromCache(int row) => (ServedFromCache ??= new bool[Values.Length])[row] = true;
}

/// <summary>What the online path reads feature values from (the entity grains, or a store directly).</summary>
public interface IOnlineFeatureSource
{
    /// <summary>
    /// For each of <paramref name="entities"/>, the requested features of <paramref name="views"/> evaluated now, flattened
    /// view by view, feature by feature (see <see cref="OnlineReadRules"/>). Implementations read many entities at once.
    /// </summary>
    Task<IReadOnlyList<FeatureReadResult[]>> ReadAsync(IReadOnlyList<EntityKey> entities, OnlineViewSelection views, CancellationToken cancellationToken);
}

/// <summary>
/// A source that can also answer a read as flat arrays (<see cref="OnlineFeatureBatch"/>), which the retrieval copies
/// into its columns without a result object per entity.
/// </summary>
public interface IOnlineBatchFeatureSource : IOnlineFeatureSource
{
    /// <summary>What <see cref="IOnlineFeatureSource.ReadAsync"/> answers, laid out as <see cref="OnlineFeatureBatch"/> says.</summary>
    Task<OnlineFeatureBatch> ReadBatchAsync(IReadOnlyList<EntityKey> entities, OnlineViewSelection views, CancellationToken cancellationToken);
}

/// <summary>
/// A read's answer, entity after entity: per feature (at <c>entity * features + feature</c>, features flattened view by
/// view) a value and a <see cref="FeatureStatus"/> as a byte; per view (at <c>entity * views + view</c>) the row's event
/// time (null when none is held); per entity whether it was served from cache.
/// </summary>
public sealed record OnlineFeatureBatch(object?[] Values, byte[] Statuses, DateTimeOffset?[] EventTimes, bool[] ServedFromCache);

/// <summary>Views to read from every entity of one key shape, and per view the features in output order.</summary>
/// <param name="Views">Feature view names.</param>
/// <param name="Features">Per view, its feature names.</param>
public sealed record OnlineViewSelection(IReadOnlyList<string> Views, IReadOnlyList<IReadOnlyList<string>> Features);

/// <summary>Bad input to an online read (unequal entity columns, a missing join key or request data column); the message says what and how to fix it.</summary>
public sealed class OnlineRetrievalException(string message, string? hint = null) : GranaryException(message, hint);

/// <summary>Runs an <see cref="OnlineFeaturesRequest"/> against an <see cref="IOnlineFeatureSource"/>, then the on-demand transforms.</summary>
public static class OnlineRetrieval
{
    /// <summary>Reads, one source call per entity-key shape (not per entity), and assembles the column-major answer.</summary>
    public static async Task<OnlineFeaturesResponse> ExecuteAsync(OnlineFeaturesRequest request, IOnlineFeatureSource source, CancellationToken cancellationToken = default)
    {
        var plan = request.Plan;
        var rowCount = RowCount(request.Entities);
        var names = new List<string>();
        var columns = new List<OnlineFeatureColumn>();
        var byColumnName = new Dictionary<string, OnlineFeatureColumn>(StringComparer.Ordinal);

        // Join key columns first, as Feast answers: the values given, PRESENT, no event time.
        foreach (var entityColumn in plan.Views.SelectMany(v => v.JoinKeys).Select(k => k.EntityColumn).Distinct(StringComparer.Ordinal))
        {
            var values = Column(request.Entities, entityColumn, "join key");
            var column = new OnlineFeatureColumn([.. values], Enumerable.Repeat(FeatureStatus.Present, rowCount).ToArray(), new DateTimeOffset?[rowCount]);
            names.Add(entityColumn);
            columns.Add(column);
        }

        // Views grouped by the shape of their entity key: one read per shape covers all of them.
        foreach (var shape in plan.Views.GroupBy(v => string.Join(";", v.JoinKeys.Select(k => k.JoinKey + "=" + k.EntityColumn)), StringComparer.Ordinal))
        {
            var views = shape.ToList();
            var bindings = views[0].JoinKeys;
            var keyColumns = bindings.Select(k => Column(request.Entities, k.EntityColumn, "join key")).ToList();
            // Per entity row, the index of its key among the distinct keys read: resolved once here, not per feature below.
            var slotOfRow = new int[rowCount];
            var distinct = new Dictionary<EntityKey, int>();
            for (var r = 0; r < rowCount; r++)
            {
                var parts = new KeyValuePair<string, string>[bindings.Count];
                for (var k = 0; k < bindings.Count; k++)
                {
                    var value = keyColumns[k][r] ?? throw new OnlineRetrievalException(
                        $"entity row {r}: join key '{bindings[k].EntityColumn}' is null", "give every entity row a value for each join key");
                    parts[k] = new(bindings[k].JoinKey, EntityKey.FormatValue(bindings[k].JoinKey, value));
                }
                var key = EntityKey.Create(request.Project, parts);
                if (!distinct.TryGetValue(key, out slotOfRow[r])) distinct.Add(key, slotOfRow[r] = distinct.Count);
            }
            var selection = new OnlineViewSelection(
                views.Select(v => v.View.Name).ToList(),
                views.Select(v => (IReadOnlyList<string>)v.Features.Select(f => f.Feature).ToList()).ToList());
            var keys = new EntityKey[distinct.Count];
            foreach (var (key, index) in distinct) keys[index] = key;
            // A batch source answers in flat arrays, copied straight into the columns; any other per entity.
            var batch = source is IOnlineBatchFeatureSource batchSource ? await batchSource.ReadBatchAsync(keys, selection, cancellationToken) : null;
            var results = batch is null ? await source.ReadAsync(keys, selection, cancellationToken) : null;
            var featureCount = views.Sum(v => v.Features.Count);

            var offset = 0;
            for (var v = 0; v < views.Count; v++)
            {
                foreach (var feature in views[v].Features)
                {
                    var column = new OnlineFeatureColumn(new object?[rowCount], new FeatureStatus[rowCount], new DateTimeOffset?[rowCount]);
                    for (var r = 0; r < rowCount; r++)
                    {
                        var slot = slotOfRow[r];
                        if (batch is not null)
                        {
                            column.Values[r] = batch.Values[slot * featureCount + offset];
                            column.Statuses[r] = (FeatureStatus)batch.Statuses[slot * featureCount + offset];
                            column.EventTimestamps[r] = batch.EventTimes[slot * views.Count + v];
                            if (batch.ServedFromCache[slot]) column.MarkServedFromCache(r);
                            continue;
                        }
                        var result = results![slot][offset];
                        column.Values[r] = result.Value;
                        column.Statuses[r] = result.Status;
                        column.EventTimestamps[r] = result.EventTimestamp;
                        if (result.ServedFromCache) column.MarkServedFromCache(r);
                    }
                    offset++;
                    byColumnName[feature.ColumnName] = column;
                    if (!feature.IsOutput) continue;
                    names.Add(feature.ColumnName);
                    columns.Add(column);
                }
            }
        }

        foreach (var onDemand in plan.OnDemandViews)
        {
            var outputs = onDemand.Outputs.Select(_ => new OnlineFeatureColumn(new object?[rowCount], new FeatureStatus[rowCount], new DateTimeOffset?[rowCount])).ToArray();
            var inputs = onDemand.Inputs.Select(i => i.FromEntityDataFrame
                ? Column(request.Entities, i.ColumnName, $"request data of on-demand feature view '{onDemand.View.Name}'")
                : byColumnName[i.ColumnName].Values).ToArray();
            // An output computed from a value served from cache is itself a last-known-good answer.
            var cachedInputs = onDemand.Inputs.Where(i => !i.FromEntityDataFrame).Select(i => byColumnName[i.ColumnName]).Where(c => c.AnyServedFromCache).ToArray();
            var row = new TransformRow();
            for (var r = 0; r < rowCount; r++)
            {
                row.Clear();
                for (var i = 0; i < inputs.Length; i++) row[onDemand.Inputs[i].Name] = inputs[i][r];
                try
                {
                    onDemand.Transform.Transform(row);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    throw new OnlineRetrievalException($"transform '{onDemand.View.Transform}' of on-demand feature view '{onDemand.View.Name}' failed on entity row {r}: {e.Message}");
                }
                for (var o = 0; o < outputs.Length; o++)
                {
                    var feature = onDemand.Outputs[o].Feature;
                    if (!row.Contains(feature))
                        throw new OnlineRetrievalException($"transform '{onDemand.View.Transform}' of on-demand feature view '{onDemand.View.Name}' did not set output '{feature}'");
                    var value = row[feature];
                    outputs[o].Values[r] = value;
                    outputs[o].Statuses[r] = value is null ? FeatureStatus.NullValue : FeatureStatus.Present;
                }
                foreach (var input in cachedInputs)
                {
                    if (!input.IsServedFromCache(r)) continue;
                    foreach (var output in outputs) output.MarkServedFromCache(r);
                    break;
                }
            }
            for (var o = 0; o < outputs.Length; o++)
            {
                names.Add(onDemand.Outputs[o].ColumnName);
                columns.Add(outputs[o]);
            }
        }
        return new OnlineFeaturesResponse(names, columns);
    }

    private static int RowCount(IReadOnlyDictionary<string, IReadOnlyList<object?>> entities)
    {
        if (entities.Count == 0) throw new OnlineRetrievalException("no entity rows given", "pass each join key with a list of values, e.g. {\"driver_id\": [1001, 1002]}");
        var count = -1;
        string? first = null;
        foreach (var (name, values) in entities)
        {
            if (count < 0) (count, first) = (values.Count, name);
            else if (values.Count != count)
                throw new OnlineRetrievalException($"entity column '{name}' has {values.Count} values but '{first}' has {count}", "give every entity column one value per entity row");
        }
        return count;
    }

    private static IReadOnlyList<object?> Column(IReadOnlyDictionary<string, IReadOnlyList<object?>> entities, string name, string role)
        => entities.TryGetValue(name, out var values) ? values
            : throw new OnlineRetrievalException($"the entity rows have no column '{name}' ({role}); given: {string.Join(", ", entities.Keys)}",
                $"add '{name}' to the entity rows");
}
