using Granary.Core.Security;
using Granary.Gateway.Security;
using System.Text.Json;
using Feast.Types;
using Granary.Contracts;
using Granary.Definitions;
using Granary.Push;
using Granary.Grains.Online;
using Granary.Online;
using Granary.Gateway.Rest;
using Granary.Gateway.V1;
using Granary.Grains.Push;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using PushRequest = Granary.Grains.Push.PushRequest;
using ValueType = Granary.Definitions.ValueType;

// Everything of the gateway that needs the push grain (grains/Granary.Grains.Interfaces/Push): REST /push and
// /write-to-online-store, gRPC Granary/Push. The project file leaves this folder out while that interface is absent.

namespace Granary.Gateway
{
    public static partial class GatewayEndpoints
    {
        static partial void MapPush(IEndpointRouteBuilder app)
        {
            app.MapPost("/push", FeastGuard(PushAsync));
            app.MapPost("/write-to-online-store", FeastGuard(WriteToOnlineStoreAsync));
        }

        // Feast: {"push_source_name", "df": {col: [..]}, "to": "online" | "offline" | "online_and_offline"}; 200 with no body.
        private static async Task PushAsync(HttpContext context)
        {
            using var body = await FeastRestEndpoints.ReadBodyAsync(context);
            var root = body.RootElement;
            var source = FeastRestEndpoints.RequiredString(root, "push_source_name");
            var toText = FeastRestEndpoints.OptionalString(root, "to") ?? "online";
            if (!PushModes.TryParse(toText, out var to))
                throw new GatewayRequestException($"'to' '{toText}' is not a push mode", "send \"to\": \"online\", \"offline\" or \"online_and_offline\"");
            var result = await Pushes.PushAsync(context, source, JsonTable(FeastRestEndpoints.Required(root, "df")), to, dropUnread: !FeastCompatibility.IsStrict(context));
            // Feast's answer has no body; what the data rules did travels in headers, which Feast clients ignore.
            context.Response.Headers["X-Granary-Rows-Quarantined"] = result.RowsQuarantined.ToString(System.Globalization.CultureInfo.InvariantCulture);
            context.Response.Headers["X-Granary-Rows-Warned"] = result.RowsWarned.ToString(System.Globalization.CultureInfo.InvariantCulture);
            context.Response.StatusCode = StatusCodes.Status200OK;
        }

        // Feast (deprecated there): {"feature_view_name", "df"}; 200 with null. Written through the view's push source, online only.
        private static async Task WriteToOnlineStoreAsync(HttpContext context)
        {
            using var body = await FeastRestEndpoints.ReadBodyAsync(context);
            var root = body.RootElement;
            var viewName = FeastRestEndpoints.RequiredString(root, "feature_view_name");
            var snapshot = await context.RequestServices.GetRequiredService<OnlineFeatureQueries>().SnapshotAsync();
            var view = snapshot.FeatureViews.FirstOrDefault(v => v.Name == viewName)
                ?? throw new GatewayNotFoundException($"'feature_view_name' '{viewName}' is not a feature view of project '{snapshot.Project}'; known: {OnlineFeatureQueries.Known(snapshot.FeatureViews.Select(v => v.Name))}", feastClass: FeastErrors.FeatureViewNotFound);
            var table = JsonTable(FeastRestEndpoints.Required(root, "df"));
            context.RequestServices.GetRequiredService<GatewayAuthorization>().Require(context, snapshot, PermissionAction.WriteOnline, PermissionRules.FeatureView, view.Name);
            if (snapshot.DataSources.FirstOrDefault(d => d.Name == view.Source) is PushSource)
                await Pushes.PushAsync(context, view.Source, table, PushMode.Online, dropUnread: !FeastCompatibility.IsStrict(context));
            else if (FeastCompatibility.IsStrict(context))
                throw new GatewayRequestException($"feature view '{viewName}' reads '{view.Source}', which is not a push source; in strict mode the gateway writes online rows through push sources only",
                    "give the view a push source, or materialize it from its batch source");
            else
                await OnlineWrites.WriteAsync(context.RequestServices.GetRequiredService<IGrainFactory>(), snapshot, view, table);
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("null");
        }

        // Column-major JSON as raw values: the push grain types them by the schema (text parsed, typed values only when exact).
        private static (string[] Columns, object?[][] Rows) JsonTable(JsonElement df)
        {
            if (df.ValueKind != JsonValueKind.Object)
                throw new GatewayRequestException($"'df' is {JsonEntityValues.Describe(df)}, not an object of columns", "send \"df\": {\"driver_id\": [1001], \"event_timestamp\": [\"2024-01-01T00:00:00Z\"], ...}");
            var columns = df.EnumerateObject().ToList();
            if (columns.Count == 0) throw new GatewayRequestException("'df' has no columns", "send at least the join keys, the event timestamp and the features");
            int? count = null;
            foreach (var c in columns)
            {
                if (c.Value.ValueKind != JsonValueKind.Array)
                    throw new GatewayRequestException($"df.{c.Name} is {JsonEntityValues.Describe(c.Value)}, not a list", "send one value per row");
                var n = c.Value.GetArrayLength();
                if (count is { } k && n != k)
                    throw new GatewayRequestException($"df.{c.Name} has {n} values but df.{columns[0].Name} has {k}", "give every column one value per row");
                count = n;
            }
            var rows = new object?[count!.Value][];
            for (var r = 0; r < rows.Length; r++) rows[r] = new object?[columns.Count];
            for (var c = 0; c < columns.Count; c++)
            {
                var r = 0;
                foreach (var item in columns[c].Value.EnumerateArray()) rows[r++][c] = Raw(item, $"df.{columns[c].Name}[{r - 1}]");
            }
            return (columns.Select(c => c.Name).ToArray(), rows);
        }

        private static object? Raw(JsonElement value, string where) => value.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.String => value.GetString(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number when value.TryGetInt64(out var l) => l,
            // A JSON number has no float/double distinction: a fraction goes as its text, parsed as the declared float type
            // (0.99 for a Float32 feature), instead of a double that no Float32 equals exactly.
            JsonValueKind.Number => value.GetRawText(),
            _ => throw new GatewayRequestException($"{where} is {JsonEntityValues.Describe(value)}; push values are scalars", "send text, numbers, booleans or null"),
        };
    }

    /// <summary>
    /// Rows written straight to the online store for a view over a batch source, as Feast's <c>materialize</c> sends them
    /// through a remote online store (feast 0.66 <c>infra/online_stores/remote.py</c> 265-291): join keys and features by
    /// name, <c>event_timestamp</c>, optional <c>created</c>; other columns are ignored. Typed by the registry like a push,
    /// written through the entity grains (newest wins), nothing offline.
    /// </summary>
    internal static class OnlineWrites
    {
        public static async Task WriteAsync(IGrainFactory grains, RegistrySnapshot snapshot, FeatureView view, (string[] Columns, object?[][] Rows) table)
        {
            var at = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < table.Columns.Length; i++) at.TryAdd(table.Columns[i], i);
            int Column(string name, string what) => at.TryGetValue(name, out var i) ? i
                : throw new GatewayRequestException($"df has no column '{name}' ({what} of feature view '{view.Name}'); it has: {string.Join(", ", table.Columns)}", $"send df.{name}, one value per row");
            var keys = view.Entities.Select(name => snapshot.FindEntity(name)
                ?? throw new GatewayRequestException($"feature view '{view.Name}' names entity '{name}', which is not in the registry")).ToArray();
            var keyAt = keys.Select(k => Column(k.JoinKey, "join key")).ToArray();
            var eventAt = Column("event_timestamp", "event timestamp");
            var createdAt = at.TryGetValue("created", out var c) ? c : -1;
            var features = view.Features.Where(f => at.ContainsKey(f.Name)).ToArray();
            if (features.Length == 0)
                throw new GatewayRequestException($"df has none of the features of feature view '{view.Name}' ({string.Join(", ", view.Features.Select(f => f.Name))})", "send the features by name");
            var timestamp = new ValueType(ScalarType.UnixTimestamp);
            object? Typed(object? raw, ValueType type, string column, int row, bool required)
            {
                if (!PushValues.TryConvert(raw, type, out var value, out var problem))
                    throw new GatewayRequestException($"df.{column}[{row}] {PushValues.Show(raw)} {problem}; the column is declared {type}", $"send df.{column} as {type}");
                return value is null && required ? throw new GatewayRequestException($"df.{column}[{row}] is null", $"every row needs a {column}") : value;
            }
            var perEntity = new Dictionary<string, List<EntityWriteRow>>(StringComparer.Ordinal);
            for (var r = 0; r < table.Rows.Length; r++)
            {
                var row = table.Rows[r];
                var key = EntityKey.FromValues(snapshot.Project, keys.Select((k, i) => new KeyValuePair<string, object>(k.JoinKey, Typed(row[keyAt[i]], k.ValueType, k.JoinKey, r, required: true)!)));
                var eventTime = (DateTimeOffset)Typed(row[eventAt], timestamp, "event_timestamp", r, required: true)!;
                var created = createdAt < 0 ? null : (DateTimeOffset?)Typed(row[createdAt], timestamp, "created", r, required: false);
                var values = features.Select(f => Typed(row[at[f.Name]], f.Type, f.Name, r, required: false)).ToArray();
                var write = new EntityWriteRow(view.Name, OnlineTime.ToMicros(eventTime), created is { } t ? OnlineTime.ToMicros(t) : long.MinValue, features.Select(f => f.Name).ToArray(), values);
                if (!perEntity.TryGetValue(key.Canonical, out var rows)) perEntity[key.Canonical] = rows = [];
                rows.Add(write);
            }
            await Task.WhenAll(perEntity.Select(e => grains.GetGrain<IEntityGrain>(e.Key).WriteAsync(new EntityWrite([.. e.Value]))));
        }
    }

    /// <summary>The push call REST and gRPC share: the push source checked (404), then one call to its push grain.</summary>
    internal static class Pushes
    {
        /// <param name="http">The request: its services, and its principal, which needs WRITE_ONLINE / WRITE_OFFLINE (as <paramref name="to"/> says) on every feature view the source feeds.</param>
        /// <param name="source">The push source.</param>
        /// <param name="table">The rows as sent.</param>
        /// <param name="to">Online, offline or both.</param>
        /// <param name="dropUnread">
        /// Leave out columns no view of the source reads (and that are not the event-id column) before validating, as
        /// Feast's push does: its online write keeps the view's columns, and its offline write wants the batch source's,
        /// which may hold more than the views read. Granary's own gRPC push and strict mode refuse them instead.
        /// </param>
        public static async Task<PushResult> PushAsync(HttpContext http, string source, (string[] Columns, object?[][] Rows) table, PushMode to, bool dropUnread = false)
        {
            var services = http.RequestServices;
            var queries = services.GetRequiredService<OnlineFeatureQueries>();
            var snapshot = await queries.SnapshotAsync();
            if (snapshot.DataSources.FirstOrDefault(d => d.Name == source) is not PushSource)
                throw new GatewayNotFoundException($"push source '{source}' is not in the registry of project '{snapshot.Project}'; known: {OnlineFeatureQueries.Known(snapshot.DataSources.OfType<PushSource>().Select(s => s.Name))}",
                    feastClass: FeastErrors.PushSourceNotFound);
            Authorize(http, snapshot, source, to);
            if (dropUnread) table = ReadColumnsOnly(PushPlan.For(snapshot, source), table);
            var grains = services.GetRequiredService<IGrainFactory>();
            return await grains.GetGrain<IPushGrain>($"{snapshot.Project}/{source}").PushAsync(new PushRequest(table.Columns, table.Rows, to));
        }

        // As Feast's push (feast/feature_server.py: assert_permissions on every view whose stream source is the push source);
        // a source no view reads is checked itself, so it is not left open.
        private static void Authorize(HttpContext http, RegistrySnapshot snapshot, string source, PushMode to)
        {
            var authorization = http.RequestServices.GetRequiredService<GatewayAuthorization>();
            var views = snapshot.FeatureViews.Where(v => v.Source == source).Select(v => (PermissionRules.FeatureView, v.Name)).ToList();
            if (views.Count == 0) views.Add((PermissionRules.DataSource, source));
            foreach (var (type, name) in views)
            {
                if (to is PushMode.Online or PushMode.OnlineAndOffline) authorization.Require(http, snapshot, PermissionAction.WriteOnline, type, name);
                if (to is PushMode.Offline or PushMode.OnlineAndOffline) authorization.Require(http, snapshot, PermissionAction.WriteOffline, type, name);
            }
        }

        private static (string[] Columns, object?[][] Rows) ReadColumnsOnly(PushPlan plan, (string[] Columns, object?[][] Rows) table)
        {
            var read = plan.Columns.Select(c => c.Name).Append(PushOptions.DefaultEventIdColumn).ToHashSet(StringComparer.Ordinal);
            var keep = Enumerable.Range(0, table.Columns.Length).Where(i => read.Contains(table.Columns[i])).ToArray();
            if (keep.Length == table.Columns.Length) return table;
            var rows = new object?[table.Rows.Length][];
            for (var r = 0; r < rows.Length; r++)
            {
                var row = table.Rows[r];
                rows[r] = new object?[keep.Length];
                for (var k = 0; k < keep.Length; k++) rows[r][k] = keep[k] < row.Length ? row[keep[k]] : null;
            }
            return (keep.Select(i => table.Columns[i]).ToArray(), rows);
        }
    }
}

namespace Granary.Gateway.Grpc
{
    public sealed partial class GranaryGrpcService
    {
        /// <inheritdoc/>
        public override async Task<PushResponse> Push(V1.PushRequest request, ServerCallContext context)
        {
            if (string.IsNullOrEmpty(request.PushSourceName)) throw new GatewayRequestException("'push_source_name' is empty", "name the push source");
            var toText = string.IsNullOrEmpty(request.To) ? "online" : request.To;
            if (!PushModes.TryParse(toText, out var to))
                throw new GatewayRequestException($"'to' '{toText}' is not a push mode", "send \"online\", \"offline\" or \"online_and_offline\"");
            var columns = request.Columns.Keys.ToArray();
            if (columns.Length == 0) throw new GatewayRequestException("'columns' is empty", "send the join keys, the event timestamp and the features");
            var count = request.Columns[columns[0]].Val.Count;
            var rows = new object?[count][];
            for (var r = 0; r < count; r++) rows[r] = new object?[columns.Length];
            for (var c = 0; c < columns.Length; c++)
            {
                var values = request.Columns[columns[c]].Val;
                if (values.Count != count)
                    throw new GatewayRequestException($"columns.{columns[c]} has {values.Count} values but columns.{columns[0]} has {count}", "give every column one value per row");
                for (var r = 0; r < count; r++) rows[r][c] = Raw(values[r], $"columns.{columns[c]}[{r}]");
            }
            var result = await Pushes.PushAsync(context.GetHttpContext(), request.PushSourceName, (columns, rows), to);
            return new PushResponse
            {
                RowsReceived = result.RowsReceived, RowsAccepted = result.RowsAccepted, DuplicatesDropped = result.DuplicatesDropped,
                RowsIgnoredAsOlder = result.RowsIgnoredAsOlder, OnlineRowsApplied = result.OnlineRowsApplied, OfflineRowsAppended = result.OfflineRowsAppended,
                RowsQuarantined = result.RowsQuarantined, RowsWarned = result.RowsWarned,
            };
        }

        // A proto value as the push grain takes it: its own .NET form (the grain converts only when exact).
        private static object? Raw(Value value, string where)
        {
            if (value.ValCase is Value.ValOneofCase.None or Value.ValOneofCase.NullVal) return null;
            RequestTimes.CheckEpochSeconds(value, where);
            return FeastValues.FromProto(value) ?? throw new GatewayRequestException($"{where} is a {value.ValCase}, which push does not take", "send scalar or list values");
        }
    }
}
