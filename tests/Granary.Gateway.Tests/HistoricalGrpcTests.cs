using System.Globalization;
using DuckDB.NET.Data;
using Feast.Types;
using Granary.Gateway.V1;
using Granary.Grains.Historical;
using Granary.Offline.DuckDb;
using Granary.Offline.Engine;
using Granary.Testing;
using Grpc.Core;
using Value = Feast.Types.Value;

namespace Granary.Gateway.Tests;

/// <summary>
/// <c>Granary/GetHistoricalFeatures</c> over a real server: progress then the result, streamed rows equal to the file the
/// same job writes when run as the CLI runs it (straight on the historical query grain), errors as statuses naming the
/// field, and a cancelled or timed-out call cancelling its job on the silo.
/// </summary>
public sealed class HistoricalGrpcTests(GatewayServer server) : IClassFixture<GatewayServer>
{
    private V1.Granary.GranaryClient Granary => new(server.Channel);
    // Inside the repository's data folder: the server confines request paths there.
    private string Folder { get; } = Directory.CreateDirectory(Path.Combine(server.RepositoryRoot, "data", "historical-grpc-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    private static readonly long Noon = new DateTimeOffset(2024, 1, 2, 12, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();

    /// <summary>Driver 1 after its newer row, driver 1 between its rows, driver 2, driver 3 (no rows: nulls).</summary>
    private static EntityRows InlineRows()
    {
        var rows = new EntityRows();
        rows.Columns["driver_id"] = Column(1L, 1L, 2L, 3L);
        rows.Columns["event_timestamp"] = new RepeatedValue
        {
            Val =
            {
                new Value { UnixTimestampVal = Noon }, new Value { UnixTimestampVal = Noon - 86400 },
                new Value { UnixTimestampVal = Noon }, new Value { UnixTimestampVal = Noon },
            },
        };
        return rows;
    }

    private static RepeatedValue Column(params long[] values)
    {
        var column = new RepeatedValue();
        foreach (var v in values) column.Val.Add(new Value { Int64Val = v });
        return column;
    }

    private static async Task<List<HistoricalFeaturesEvent>> ReadAllAsync(AsyncServerStreamingCall<HistoricalFeaturesEvent> call)
    {
        var events = new List<HistoricalFeaturesEvent>();
        await foreach (var e in call.ResponseStream.ReadAllAsync()) events.Add(e);
        return events;
    }

    [Fact]
    public async Task Inline_rows_stream_progress_then_the_result_then_rows_equal_to_the_cli_path()
    {
        var output = Path.Combine(Folder, "grpc.parquet");
        var request = new GetHistoricalFeaturesRequest
        {
            EntityRows = InlineRows(), Features = { "driver_stats:conv_rate", "driver_stats:trips" }, OutputPath = output, StreamRows = true, ChunkRows = 3,
        };
        var events = await ReadAllAsync(Granary.GetHistoricalFeatures(request, deadline: DateTime.UtcNow.AddMinutes(2)));

        // Order: at least one progress message, then exactly one result, then the row chunks.
        var resultAt = events.FindIndex(e => e.EventCase == HistoricalFeaturesEvent.EventOneofCase.Result);
        Assert.True(resultAt > 0, "progress must come before the result");
        Assert.All(events.Take(resultAt), e => Assert.Equal(HistoricalFeaturesEvent.EventOneofCase.Progress, e.EventCase));
        Assert.All(events.Skip(resultAt + 1), e => Assert.Equal(HistoricalFeaturesEvent.EventOneofCase.Rows, e.EventCase));
        var result = events[resultAt].Result;
        Assert.StartsWith("gw-", result.JobId);
        Assert.All(events.Take(resultAt), e => Assert.Equal(result.JobId, e.Progress.JobId));
        var last = events[resultAt - 1].Progress;
        Assert.Equal(("done", 100.0, 4L, 4L), (last.Phase, last.Percent, last.EntityRows, last.OutputRows));
        Assert.Equal(output, result.OutputPath);
        Assert.Equal(4, result.OutputRows);
        Assert.Equal(["driver_id", "event_timestamp", "conv_rate", "trips"], result.Columns);

        // Chunks of 3: rows 0-2, then row 3.
        var chunks = events.Skip(resultAt + 1).Select(e => e.Rows).ToList();
        Assert.Equal([0L, 3L], chunks.Select(c => c.FirstRow));
        Assert.Equal(Value.ValOneofCase.DoubleVal, chunks[0].Columns[2].Val[0].ValCase);
        Assert.Equal(Value.ValOneofCase.Int64Val, chunks[0].Columns[3].Val[0].ValCase);
        var streamed = Rows(chunks);

        // The same job as `granary get-historical-features` runs it: straight on a historical query grain.
        var reference = await RunLikeTheCliAsync(new HistoricalJobRequest
        {
            Project = server.Project, Features = ["driver_stats:conv_rate", "driver_stats:trips"],
            InlineEntities =
            [
                new Offline.InlineEntityColumn { Name = "driver_id", Type = Definitions.ScalarType.Int64, Values = ["1", "1", "2", "3"] },
                new Offline.InlineEntityColumn
                {
                    Name = "event_timestamp", Type = Definitions.ScalarType.UnixTimestamp,
                    Values = ["2024-01-02T12:00:00Z", "2024-01-01T12:00:00Z", "2024-01-02T12:00:00Z", "2024-01-02T12:00:00Z"],
                },
            ],
        });
        Assert.Equal(reference, streamed);
        Assert.Equal(reference, ReadParquet(output));
        // Point in time: driver 1 at noon on day 2 sees its newer row (0.5, 20), a day earlier its older one (0.1, 10); driver 3 nothing.
        Assert.Equal(["1|1704196800|0.5|20", "1|1704110400|0.1|10", "2|1704196800|0.25|5", "3|1704196800||"], streamed);
    }

    [Fact]
    public async Task An_entity_file_and_a_feature_service_write_a_csv_result_on_the_server()
    {
        var entities = Path.Combine(Folder, "entities.parquet");
        Execute($"COPY (SELECT * FROM (VALUES (1::BIGINT, TIMESTAMPTZ '2024-01-02 12:00:00+00'), (2::BIGINT, TIMESTAMPTZ '2024-01-02 12:00:00+00')) t(driver_id, event_timestamp)) TO '{entities}' (FORMAT parquet)");
        var output = Path.Combine(Folder, "service.csv");
        var events = await ReadAllAsync(Granary.GetHistoricalFeatures(new GetHistoricalFeaturesRequest
        {
            EntitiesPath = entities, FeatureService = "driver_service", FullFeatureNames = true, OutputPath = output,
        }, deadline: DateTime.UtcNow.AddMinutes(2)));
        var result = events.Last().Result;
        Assert.NotNull(result);
        Assert.Equal(["driver_id", "event_timestamp", "driver_stats__conv_rate", "driver_stats__trips"], result.Columns);
        Assert.Equal(2, result.OutputRows);
        var lines = await File.ReadAllLinesAsync(output);
        Assert.Equal("driver_id,event_timestamp,driver_stats__conv_rate,driver_stats__trips", lines[0]);
        Assert.Equal(3, lines.Length);
    }

    [Theory]
    [InlineData("output_path", "relative.parquet", false, "'output_path' 'relative.parquet' is not an absolute path")]
    [InlineData("output_path", "/tmp/x.txt", false, "'output_path' '/tmp/x.txt' must end in .parquet or .csv")]
    [InlineData("output_path", "/tmp/x.csv", true, "'stream_rows' needs a Parquet result")]
    [InlineData("output_path", "", false, "neither 'output_path' nor 'stream_rows'")]
    [InlineData("entities_path", "/nowhere/entities.parquet", true, "'entities_path' '/nowhere/entities.parquet' does not exist on the server")]
    [InlineData("entities_path", "entities.parquet", true, "'entities_path' 'entities.parquet' is not an absolute path")]
    [InlineData("chunk_rows", "-1", true, "'chunk_rows' -1 is out of range")]
    public async Task Bad_input_is_invalid_argument_naming_the_field(string field, string value, bool streamRows, string message)
    {
        var request = new GetHistoricalFeaturesRequest { Features = { "driver_stats:trips" }, StreamRows = streamRows, EntityRows = InlineRows() };
        switch (field)
        {
            case "output_path": request.OutputPath = value; break;
            case "entities_path": request.EntitiesPath = value; break;
            default: request.ChunkRows = int.Parse(value, CultureInfo.InvariantCulture); break;
        }
        var e = await Assert.ThrowsAsync<RpcException>(() => ReadAllAsync(Granary.GetHistoricalFeatures(request, deadline: DateTime.UtcNow.AddMinutes(1))));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains(message, e.Status.Detail);
    }

    [Theory]
    [InlineData("garbage.parquet", "not a parquet file at all", "cannot be read as Parquet")]
    [InlineData("bad-time.csv", "driver_id,event_timestamp\n1,2024-01-02 12:00:00\n2,yesterday\n", "has value 'yesterday', which is not a timestamp, at row 2")]
    [InlineData("no-key.csv", "rider_id,event_timestamp\n1,2024-01-02 12:00:00\n", "entity dataframe has no column 'driver_id'")]
    public async Task A_job_failing_on_bad_entity_file_is_invalid_argument_naming_the_file(string name, string content, string message)
    {
        // The file exists, so the gateway starts the job; the silo finds the fault while it runs.
        var entities = Path.Combine(Folder, name);
        await File.WriteAllTextAsync(entities, content);
        var e = await Assert.ThrowsAsync<RpcException>(() => ReadAllAsync(Granary.GetHistoricalFeatures(
            new GetHistoricalFeaturesRequest { EntitiesPath = entities, Features = { "driver_stats:trips" }, StreamRows = true }, deadline: DateTime.UtcNow.AddMinutes(1))));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains(message, e.Status.Detail);
        if (!message.StartsWith("entity dataframe", StringComparison.Ordinal)) Assert.Contains(entities, e.Status.Detail);
        Assert.Contains("historical job 'gw-", e.Status.Detail);
    }

    [Fact]
    public async Task An_entity_value_of_the_wrong_type_names_the_column_and_row()
    {
        var rows = InlineRows();
        rows.Columns["driver_id"].Val[2] = new Value { StringVal = "two" };
        var e = await Assert.ThrowsAsync<RpcException>(() => ReadAllAsync(Granary.GetHistoricalFeatures(
            new GetHistoricalFeaturesRequest { EntityRows = rows, Features = { "driver_stats:trips" }, StreamRows = true }, deadline: DateTime.UtcNow.AddMinutes(1))));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("entity_rows.driver_id[2]", e.Status.Detail);
    }

    [Theory]
    [InlineData("driver_stats:nope", "has no feature 'nope'")]
    [InlineData("no_view:trips", "feature view 'no_view' is not in the registry")]
    public async Task An_unknown_feature_or_view_is_not_found(string feature, string message)
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => ReadAllAsync(Granary.GetHistoricalFeatures(
            new GetHistoricalFeaturesRequest { EntityRows = InlineRows(), Features = { feature }, StreamRows = true }, deadline: DateTime.UtcNow.AddMinutes(1))));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Contains(message, e.Status.Detail);
    }

    [Fact]
    public async Task An_unknown_feature_service_is_not_found()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => ReadAllAsync(Granary.GetHistoricalFeatures(
            new GetHistoricalFeaturesRequest { EntityRows = InlineRows(), FeatureService = "nope", StreamRows = true }, deadline: DateTime.UtcNow.AddMinutes(1))));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Contains("feature service 'nope'", e.Status.Detail);
    }

    [Fact]
    public async Task A_call_the_client_cancels_cancels_its_job_on_the_silo()
    {
        using var cancel = new CancellationTokenSource();
        using var call = Granary.GetHistoricalFeatures(LongJob(), cancellationToken: cancel.Token);
        var jobId = await FirstProgressAsync(call);
        await cancel.CancelAsync();
        var e = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.Cancelled, e.StatusCode);
        Assert.Equal(HistoricalJobState.Cancelled, await FinalStateAsync(jobId));
    }

    [Fact]
    public async Task A_call_whose_deadline_passes_cancels_its_job_on_the_silo()
    {
        // The job runs for many times this deadline (see LongJob), and the deadline leaves the first progress event ample time.
        using var call = Granary.GetHistoricalFeatures(LongJob(), deadline: DateTime.UtcNow.AddSeconds(5));
        var jobId = await FirstProgressAsync(call);
        var e = await Assert.ThrowsAsync<RpcException>(async () => { while (await call.ResponseStream.MoveNext()) { } });
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
        Assert.Equal(HistoricalJobState.Cancelled, await FinalStateAsync(jobId));
    }

    /// <summary>
    /// Forty million entity rows against the 60,000-driver view: twelve million took several seconds on an idle machine
    /// (three million finished inside 3 s), so this job runs for tens of seconds and a 5 s deadline or a cancel always
    /// lands while it runs. Written once per fixture.
    /// </summary>
    private GetHistoricalFeaturesRequest LongJob()
    {
        var entities = Path.Combine(Folder, "many.parquet");
        if (!File.Exists(entities))
            Execute($"COPY (SELECT (i % 60000)::BIGINT AS driver_id, TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(i % 172800) AS event_timestamp FROM range(40000000) r(i)) TO '{entities}' (FORMAT parquet)");
        return new GetHistoricalFeaturesRequest { EntitiesPath = entities, Features = { "big_stats:score" }, OutputPath = Path.Combine(Folder, "many-out.parquet") };
    }

    private static async Task<string> FirstProgressAsync(AsyncServerStreamingCall<HistoricalFeaturesEvent> call)
    {
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.Equal(HistoricalFeaturesEvent.EventOneofCase.Progress, call.ResponseStream.Current.EventCase);
        return call.ResponseStream.Current.Progress.JobId;
    }

    /// <summary>The job's state once it has ended (the gateway cancels it as the call ends; give it a while under load).</summary>
    private async Task<HistoricalJobState> FinalStateAsync(string jobId)
    {
        var grain = server.Store.Grains.GetGrain<IHistoricalQueryGrain>(jobId);
        HistoricalJobStatus? status = null;
        await Eventually.WaitUntil(async () => (status = await grain.GetStatus().WaitAsync(TimeSpan.FromSeconds(30))).IsFinished,
            TimeSpan.FromMinutes(3), $"historical job '{jobId}' ends after its call did");
        Assert.True(status!.State == HistoricalJobState.Cancelled,
            $"historical job '{jobId}' ended {status.State} (phase {status.Phase}, {status.Percent:0}%, error: {status.Error ?? "none"}), not Cancelled");
        return status.State;
    }

    private async Task<List<string>> RunLikeTheCliAsync(HistoricalJobRequest request)
    {
        var output = Path.Combine(Folder, "cli.parquet");
        var job = server.Store.Grains.GetGrain<IHistoricalQueryGrain>($"cli-{Guid.NewGuid():N}");
        var status = await job.Start(request with { OutputPath = output });
        await Eventually.WaitUntil(async () => (status = await job.GetStatus().WaitAsync(TimeSpan.FromSeconds(30))).IsFinished,
            TimeSpan.FromMinutes(3), "the historical job run as the CLI runs it ends");
        Assert.Equal(HistoricalJobState.Succeeded, status.State);
        return ReadParquet(output);
    }

    /// <summary>Rows as "v|v|..." text: timestamps in epoch seconds, nulls empty.</summary>
    private static List<string> Rows(IReadOnlyList<HistoricalRowChunk> chunks)
    {
        var rows = new List<string>();
        foreach (var chunk in chunks)
            for (var r = 0; r < chunk.Columns[0].Val.Count; r++)
                rows.Add(string.Join("|", chunk.Columns.Select(c => Text(c.Val[r]))));
        return rows;
    }

    private static string Text(Value v) => v.ValCase switch
    {
        Value.ValOneofCase.Int64Val => v.Int64Val.ToString(CultureInfo.InvariantCulture),
        Value.ValOneofCase.DoubleVal => v.DoubleVal.ToString("R", CultureInfo.InvariantCulture),
        Value.ValOneofCase.UnixTimestampVal => v.UnixTimestampVal.ToString(CultureInfo.InvariantCulture),
        Value.ValOneofCase.None => "",
        _ => v.ToString(),
    };

    private static List<string> ReadParquet(string path)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var reader = connection.QueryRows($"SELECT * FROM read_parquet({Sql.Literal(path)})");
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(c => reader.GetValue(c) switch
            {
                null => "",
                DateTime t => new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
                DateTimeOffset t => t.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
                double d => d.ToString("R", CultureInfo.InvariantCulture),
                var x => Convert.ToString(x, CultureInfo.InvariantCulture),
            })));
        }
        return rows;
    }

    private static void Execute(string sql) => DuckDbScript.Run(sql);
}
