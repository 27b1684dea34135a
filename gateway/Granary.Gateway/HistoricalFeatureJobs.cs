using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Http;
using Granary.Gateway.Security;
using Granary.Core.Security;
using System.Diagnostics;
using System.Globalization;
using Feast.Types;
using Google.Protobuf.WellKnownTypes;
using Granary.Definitions;
using Granary.Gateway.Grpc;
using Granary.Gateway.V1;
using Granary.Grains.Historical;
using Granary.Offline;
using Value = Feast.Types.Value;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Gateway;

/// <summary>
/// Runs <c>Granary/GetHistoricalFeatures</c>: checks the request (naming the field at fault), starts a job on an
/// <see cref="IHistoricalQueryGrain"/> (so it runs on a silo, in cluster mode too), reports its progress as it changes,
/// then its result and, when asked, the result rows in chunks. A call that ends early (client cancel, deadline, stream
/// broken) cancels the job, which interrupts the engine's query.
/// </summary>
public static class HistoricalFeatureJobs
{
    /// <summary>Rows per streamed chunk when the request gives none.</summary>
    public const int DefaultChunkRows = 1_000;

    /// <summary>The largest chunk a request may ask for (a chunk is one gRPC message).</summary>
    public const int MaxChunkRows = 100_000;

    /// <summary>How often the job's status is polled while it runs.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>Runs the job for <paramref name="request"/>, handing every event to <paramref name="write"/> in order.</summary>
    /// <param name="queries">The snapshot and the reference checks shared with online reads.</param>
    /// <param name="grains">Where the job grain lives.</param>
    /// <param name="request">The request as received.</param>
    /// <param name="sharesSiloFiles">Whether this process sees the silo's files (co-hosted), so an entity file can be checked here.</param>
    /// <param name="write">Sends one event to the caller.</param>
    /// <param name="http">The call, whose principal must be allowed READ_OFFLINE on what it reads.</param>
    /// <param name="cancellationToken">The call's token: client gone or deadline passed.</param>
    public static async Task RunAsync(OnlineFeatureQueries queries, IGrainFactory grains, GetHistoricalFeaturesRequest request, bool sharesSiloFiles,
        Func<HistoricalFeaturesEvent, Task> write, HttpContext http, CancellationToken cancellationToken)
    {
        var snapshot = await queries.SnapshotAsync();
        var plan = queries.Plan(snapshot, request.Features, request.FeatureService, request.FullFeatureNames);
        http.RequestServices.GetRequiredService<GatewayAuthorization>().RequireRead(http, snapshot, plan, request.FeatureService, PermissionAction.ReadOffline);
        var masks = http.RequestServices.GetRequiredService<PiiMaskingPolicy>().ForRead(http, snapshot, plan);
        // A result file is written on the server as the engine computes it; masked values reach a caller only as streamed rows.
        if (masks is not null && request.OutputPath.Length > 0)
            throw new GatewayForbiddenException(
                $"principal '{http.User.Identity?.Name ?? "(anonymous)"}' may not write feature '{masks.Columns.Keys.First()}' (tagged pii) to 'output_path' unmasked: it lacks READ_UNMASKED on its view",
                "leave output_path empty and set stream_rows to receive the rows masked, or have a permission grant READ_UNMASKED on the view");
        var chunkRows = ChunkRows(request);
        var jobId = $"gw-{Guid.NewGuid():N}";
        var (outputPath, temporary) = OutputPath(request, jobId);
        var job = new HistoricalJobRequest
        {
            Project = snapshot.Project,
            Features = request.Features.ToArray(),
            FeatureService = string.IsNullOrEmpty(request.FeatureService) ? null : request.FeatureService,
            FullFeatureNames = request.FullFeatureNames,
            OutputPath = outputPath,
            FromRequest = true, // the silo confines the paths to its request-files folder
        };
        job = request.EntitiesCase switch
        {
            GetHistoricalFeaturesRequest.EntitiesOneofCase.EntitiesPath => job with { EntitiesPath = EntitiesPath(request.EntitiesPath, sharesSiloFiles) },
            GetHistoricalFeaturesRequest.EntitiesOneofCase.EntityRows => job with { InlineEntities = InlineColumns(snapshot, plan, request.EntityRows) },
            _ => throw new GatewayRequestException("the request gives neither 'entities_path' nor 'entity_rows'",
                "send entities_path (a .parquet or .csv file the server can read) or entity_rows (columns with the join keys and event_timestamp)"),
        };

        var grain = grains.GetGrain<IHistoricalQueryGrain>(jobId);
        var clock = Stopwatch.StartNew();
        HistoricalJobStatus status = new();
        try
        {
            status = await grain.Start(job);
            HistoricalJobProgress? sent = null;
            while (true)
            {
                var progress = Progress(status);
                if (!progress.Equals(sent))
                {
                    await write(new HistoricalFeaturesEvent { Progress = progress });
                    sent = progress;
                }
                if (status.IsFinished) break;
                await Task.Delay(PollInterval, cancellationToken);
                status = await grain.GetStatus();
            }
            switch (status.State)
            {
                case HistoricalJobState.Succeeded: break;
                case HistoricalJobState.Cancelled:
                    throw new GatewayConflictException($"historical job '{jobId}' was cancelled on the server before it finished", "run the request again");
                default:
                    throw new GatewayJobFailedException($"historical job '{jobId}' failed: {status.Error}",
                        status.Failure ?? new JobError(JobErrorKind.Internal, nameof(GatewayJobFailedException), status.Error ?? "unknown error", null));
            }
            var result = new HistoricalJobResult
            {
                JobId = jobId, OutputPath = temporary ? "" : status.OutputPath, EntityRows = status.EntityRows, OutputRows = status.OutputRows,
                Elapsed = Duration.FromTimeSpan(clock.Elapsed),
            };
            result.Columns.AddRange(status.Columns);
            await write(new HistoricalFeaturesEvent { Result = result });
            if (request.StreamRows)
                await StreamRowsAsync(grain, OnlineFeatureQueries.OutputTypes(snapshot, plan), masks, chunkRows, write, cancellationToken);
        }
        finally
        {
            if (!status.IsFinished && status.State != HistoricalJobState.NotStarted)
            {
                // The caller is gone or the stream broke: stop the engine's query rather than let it run for nobody.
                try { await grain.Cancel().WaitAsync(TimeSpan.FromSeconds(30)); }
                catch (Exception) { /* best effort: the job grain cancels itself on deactivation too */ }
            }
            // The silo that ran the job wrote the file, so it deletes it.
            if (temporary)
            {
                try { await grain.DeleteOutput().WaitAsync(TimeSpan.FromSeconds(30)); }
                catch (Exception) { /* best effort: a file left in the silo's temp folder, never a failed call */ }
            }
        }
    }

    private static int ChunkRows(GetHistoricalFeaturesRequest request)
    {
        if (request.ChunkRows is < 0 or > MaxChunkRows)
            throw new GatewayRequestException($"'chunk_rows' {request.ChunkRows} is out of range", $"send 1 to {MaxChunkRows:N0}, or 0 for {DefaultChunkRows:N0}");
        return request.ChunkRows == 0 ? DefaultChunkRows : request.ChunkRows;
    }

    private static (string Path, bool Temporary) OutputPath(GetHistoricalFeaturesRequest request, string jobId)
    {
        var path = request.OutputPath;
        if (path.Length == 0)
        {
            if (!request.StreamRows)
                throw new GatewayRequestException("the request gives neither 'output_path' nor 'stream_rows'",
                    "set output_path to a .parquet or .csv path on the server, or stream_rows: true to receive the rows, or both");
            return ("", true); // the silo picks a temporary file
        }
        if (!System.IO.Path.IsPathFullyQualified(path))
            throw new GatewayRequestException($"'output_path' '{path}' is not an absolute path", "give the full path of the result file as the server sees it");
        var format = System.IO.Path.GetExtension(path).ToLowerInvariant();
        if (format is not (".parquet" or ".csv"))
            throw new GatewayRequestException($"'output_path' '{path}' must end in .parquet or .csv", "name a .parquet or .csv file");
        if (request.StreamRows && format == ".csv")
            throw new GatewayRequestException($"'stream_rows' needs a Parquet result, but 'output_path' '{path}' is a .csv file",
                "write Parquet (or leave output_path empty) to stream the rows, or drop stream_rows to get the CSV file only");
        return (path, false);
    }

    private static string EntitiesPath(string path, bool sharesSiloFiles)
    {
        if (!System.IO.Path.IsPathFullyQualified(path))
            throw new GatewayRequestException($"'entities_path' '{path}' is not an absolute path", "give the full path of the entity dataframe as the server sees it");
        if (System.IO.Path.GetExtension(path).ToLowerInvariant() is not (".parquet" or ".csv"))
            throw new GatewayRequestException($"'entities_path' '{path}' must be a .parquet or .csv file", "pass an entity dataframe with join-key columns and an event_timestamp column");
        // Only a gateway beside the silo sees the silo's disk; elsewhere the job reports a missing file when it fails.
        if (sharesSiloFiles && !File.Exists(path))
            throw new GatewayRequestException($"'entities_path' '{path}' does not exist on the server", "check the path; it is read by the server, not by the client");
        return path;
    }

    /// <summary>
    /// Inline entity columns as the job takes them (invariant text by type). Join keys and request data are typed by the
    /// registry; other columns by the oneof member their values use, which must be the same on every row.
    /// </summary>
    private static List<InlineEntityColumn> InlineColumns(RegistrySnapshot snapshot, HistoricalRetrievalPlan plan, EntityRows rows)
    {
        if (rows.Columns.Count == 0)
            throw new GatewayRequestException("'entity_rows' has no columns", "send the join keys and an event_timestamp column (unix_timestamp_val)");
        var columns = new List<InlineEntityColumn>(rows.Columns.Count);
        int? count = null;
        string? first = null;
        foreach (var (name, column) in rows.Columns.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            var where = $"entity_rows.{name}";
            if (name.Length == 0)
                throw new GatewayRequestException("entity_rows has a column with an empty name", "name every column: the join keys, event_timestamp, and any labels");
            if (count is { } n && column.Val.Count != n)
                throw new GatewayRequestException($"{where} has {column.Val.Count} values but entity_rows.{first} has {n}", "give every column one value per row");
            count ??= column.Val.Count;
            first ??= name;
            var type = DeclaredType(snapshot, plan, name) ?? TypeOfValues(column, where);
            if (type.IsList) throw new GatewayRequestException($"{where} is a list column; entity dataframes hold scalars", "send one scalar per row");
            var text = new string?[column.Val.Count];
            for (var r = 0; r < text.Length; r++) text[r] = Text(ProtoValues.FromProto(column.Val[r], type, $"{where}[{r}]"));
            columns.Add(new InlineEntityColumn { Name = name, Type = type.Scalar, Values = text });
        }
        if (count == 0) throw new GatewayRequestException("'entity_rows' has no rows", "send at least one entity row");
        return columns;
    }

    private static ValueType? DeclaredType(RegistrySnapshot snapshot, HistoricalRetrievalPlan plan, string column)
    {
        try
        {
            return OnlineFeatureQueries.InputType(snapshot, plan, column, "entity_rows column");
        }
        catch (GatewayRequestException)
        {
            // Not a join key or request field: the event timestamp or a column passed through, typed by its values.
            return null;
        }
    }

    private static ValueType TypeOfValues(RepeatedValue column, string where)
    {
        Value.ValOneofCase? kind = null;
        for (var r = 0; r < column.Val.Count; r++)
        {
            var c = column.Val[r].ValCase;
            if (c is Value.ValOneofCase.None or Value.ValOneofCase.NullVal) continue;
            if (kind is { } k && k != c)
                throw new GatewayRequestException($"{where}[{r}] is a {c} but earlier rows are {k}", "send every value of a column in the same oneof member");
            kind = c;
        }
        return kind switch
        {
            Value.ValOneofCase.Int32Val => new ValueType(ScalarType.Int32),
            Value.ValOneofCase.Int64Val => new ValueType(ScalarType.Int64),
            Value.ValOneofCase.FloatVal => new ValueType(ScalarType.Float32),
            Value.ValOneofCase.DoubleVal => new ValueType(ScalarType.Float64),
            Value.ValOneofCase.BoolVal => new ValueType(ScalarType.Bool),
            Value.ValOneofCase.StringVal => new ValueType(ScalarType.String),
            Value.ValOneofCase.BytesVal => new ValueType(ScalarType.Bytes),
            Value.ValOneofCase.UnixTimestampVal => new ValueType(ScalarType.UnixTimestamp),
            null => throw new GatewayRequestException($"{where} holds only nulls, so its type is unknown", "send at least one value, or leave the column out"),
            _ => throw new GatewayRequestException($"{where} holds {kind} values; entity dataframes hold scalars", "send one scalar per row"),
        };
    }

    private static string? Text(object? value) => value switch
    {
        null => null,
        string s => s,
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        byte[] bytes => Convert.ToBase64String(bytes),
        DateTimeOffset t => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture),
        IFormattable n => n.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    private static HistoricalJobProgress Progress(HistoricalJobStatus status) => new()
    {
        JobId = status.JobId,
        Phase = status.Phase,
        Percent = Math.Round(Math.Clamp(status.Percent, 0, 100), 1),
        EntityRows = status.EntityRows,
        OutputRows = status.OutputRows,
    };

    /// <summary>Sends the result rows, read by the job's grain on its silo, as column-major chunks, each column in its declared type.</summary>
    private static async Task StreamRowsAsync(IHistoricalQueryGrain grain, IReadOnlyDictionary<string, ValueType> types, ColumnMasks? masks, int chunkRows,
        Func<HistoricalFeaturesEvent, Task> write, CancellationToken cancellationToken)
    {
        ValueType?[]? declared = null;
        ColumnMask?[]? masked = null;
        await foreach (var rows in grain.ReadRows(chunkRows).WithCancellation(cancellationToken))
        {
            declared ??= rows.ColumnNames.Select(name => types.TryGetValue(name, out var t) ? t : (ValueType?)null).ToArray();
            masked ??= masks?.For(rows.ColumnNames) ?? new ColumnMask?[rows.ColumnNames.Count];
            var chunk = NewChunk(rows.FirstRow, rows.Columns.Length);
            for (var c = 0; c < rows.Columns.Length; c++)
                foreach (var value in rows.Columns[c])
                    chunk.Columns[c].Val.Add(ToProto(masked[c] is { } mask ? masks!.Mask(value, mask) : value, declared[c]));
            await write(new HistoricalFeaturesEvent { Rows = chunk });
        }
    }

    private static HistoricalRowChunk NewChunk(long first, int columns)
    {
        var chunk = new HistoricalRowChunk { FirstRow = first };
        for (var c = 0; c < columns; c++) chunk.Columns.Add(new RepeatedValue());
        return chunk;
    }

    /// <summary>A result value as its declared type; columns the registry does not type (event timestamp, passed-through ones) by the engine's type.</summary>
    private static Value ToProto(object? value, ValueType? declared)
    {
        if (value is null) return new Value();
        if (value is DateTime t) value = new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc));
        if (declared is { } type) return ProtoValues.ToProto(value, type);
        return value switch
        {
            long l => new Value { Int64Val = l },
            int i => new Value { Int32Val = i },
            double d => new Value { DoubleVal = d },
            float f => new Value { FloatVal = f },
            bool b => new Value { BoolVal = b },
            byte[] bytes => new Value { BytesVal = Google.Protobuf.ByteString.CopyFrom(bytes) },
            DateTimeOffset o => new Value { UnixTimestampVal = o.ToUnixTimeSeconds() },
            decimal m => new Value { DoubleVal = (double)m },
            _ => new Value { StringVal = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "" },
        };
    }
}
