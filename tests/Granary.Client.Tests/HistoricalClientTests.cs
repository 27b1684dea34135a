using Granary.Testing;
using Grpc.Core;

namespace Granary.Client.Tests;

/// <summary>
/// <see cref="GranaryClient.GetHistoricalFeaturesAsync"/> against the real gateway: progress reported through
/// <see cref="IProgress{T}"/>, typed streamed rows and the file on the server, INVALID_ARGUMENT and NOT_FOUND as typed
/// errors, and the deadline and cancellation stopping the job.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class HistoricalClientTests(ClientServer server)
{
    // Inside the repository's data folder: the server confines request paths there.
    private readonly string _folder = Directory.CreateDirectory(Path.Combine(server.RepositoryRoot, "data", "client-historical-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    private GranaryClient Client() => new(new GranaryClientOptions { Address = server.Address, DefaultDeadline = TimeSpan.FromSeconds(30) });

    private static readonly DateTimeOffset Evening = new(2024, 1, 1, 18, 0, 0, TimeSpan.Zero);

    private static IReadOnlyList<IReadOnlyDictionary<string, object?>> Rows() =>
    [
        new Dictionary<string, object?> { ["driver_id"] = 1L, ["event_timestamp"] = Evening },
        new Dictionary<string, object?> { ["driver_id"] = 2L, ["event_timestamp"] = Evening.AddDays(-1) },
        new Dictionary<string, object?> { ["driver_id"] = 3L, ["event_timestamp"] = Evening },
    ];

    /// <summary>Collects reports on the reporting thread (Progress&lt;T&gt; would post them later).</summary>
    private sealed class Recorder : IProgress<HistoricalProgress>
    {
        public List<HistoricalProgress> Reports { get; } = [];
        public TaskCompletionSource First { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Report(HistoricalProgress value)
        {
            lock (Reports) Reports.Add(value);
            First.TrySetResult();
        }
    }

    [Fact]
    public async Task A_job_reports_progress_and_returns_typed_rows_and_the_file_on_the_server()
    {
        using var client = Client();
        var progress = new Recorder();
        var output = Path.Combine(_folder, "out.parquet");
        var result = await client.GetHistoricalFeaturesAsync(new HistoricalFeaturesRequest
        {
            EntityRows = Rows(), Features = ["driver_stats:conv_rate", "driver_stats:trips"], OutputPath = output, StreamRows = true,
        }, progress, deadline: TimeSpan.FromMinutes(2));

        Assert.NotEmpty(progress.Reports);
        Assert.All(progress.Reports, p => Assert.Equal(result.JobId, p.JobId));
        Assert.Equal(("done", 100.0), (progress.Reports[^1].Phase, progress.Reports[^1].Percent));
        Assert.Equal(output, result.OutputPath);
        Assert.True(File.Exists(output));
        Assert.Equal((3L, 3L), (result.EntityRows, result.OutputRows));
        Assert.Equal(["driver_id", "event_timestamp", "conv_rate", "trips"], result.Columns);
        Assert.Equal<object?>([1L, Evening, 0.5, 20L], result.Rows[0]);
        // Driver 2's row is at noon on day 1: a day earlier it had none yet; driver 3 has none at all.
        Assert.Equal<object?>([2L, Evening.AddDays(-1), null, null], result.Rows[1]);
        Assert.Equal<object?>([3L, Evening, null, null], result.Rows[2]);
    }

    [Fact]
    public async Task Rows_only_leave_no_file_and_a_feature_service_works()
    {
        using var client = Client();
        var result = await client.GetHistoricalFeaturesAsync(new HistoricalFeaturesRequest { EntityRows = Rows(), FeatureService = "driver_service", FullFeatureNames = true, StreamRows = true });
        Assert.Null(result.OutputPath);
        Assert.Equal(["driver_id", "event_timestamp", "driver_stats__trips"], result.Columns);
        Assert.Equal(20L, result.Rows[0][2]);
    }

    [Fact]
    public async Task Bad_input_and_unknown_features_are_typed_errors()
    {
        using var client = Client();
        var bad = await Assert.ThrowsAsync<GranaryClientException>(() => client.GetHistoricalFeaturesAsync(
            new HistoricalFeaturesRequest { EntityRows = Rows(), Features = ["driver_stats:trips"], OutputPath = "relative.csv" }));
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Contains("'output_path' 'relative.csv'", bad.Message);
        var unknown = await Assert.ThrowsAsync<GranaryClientException>(() => client.GetHistoricalFeaturesAsync(
            new HistoricalFeaturesRequest { EntityRows = Rows(), Features = ["driver_stats:nope"], StreamRows = true }));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        await Assert.ThrowsAsync<ArgumentException>(() => client.GetHistoricalFeaturesAsync(new HistoricalFeaturesRequest { Features = ["driver_stats:trips"], StreamRows = true }));
    }

    [Fact]
    public async Task Cancelling_stops_the_call_and_the_deadline_ends_it_deadline_exceeded()
    {
        using var client = Client();
        var request = LongJob();
        using var cancel = new CancellationTokenSource();
        var progress = new Recorder();
        var call = client.GetHistoricalFeaturesAsync(request, progress, cancellationToken: cancel.Token);
        await progress.First.Task.WaitAsync(TimeSpan.FromMinutes(1));
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.DoesNotContain(progress.Reports.ToArray(), p => p.Phase == "done");

        var late = await Assert.ThrowsAsync<GranaryClientException>(() => client.GetHistoricalFeaturesAsync(request, deadline: TimeSpan.FromMilliseconds(500)));
        Assert.Equal(StatusCode.DeadlineExceeded, late.StatusCode);
        Assert.True(late.IsTransient);
    }

    /// <summary>
    /// Twenty million entity rows: on two busy cores DuckDB can starve the thread pool that carries progress and the
    /// cancel, so the job must outlast those delays by far (3M rows once finished before the cancel arrived).
    /// </summary>
    private HistoricalFeaturesRequest LongJob()
    {
        var entities = Path.Combine(_folder, "many.parquet");
        DuckDbScript.Run($"COPY (SELECT (i % 3)::BIGINT AS driver_id, TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(i % 172800) AS event_timestamp FROM range(20000000) r(i)) TO '{entities}' (FORMAT parquet)");
        return new HistoricalFeaturesRequest { EntitiesPath = entities, Features = ["driver_stats:conv_rate"], OutputPath = Path.Combine(_folder, "many-out.parquet") };
    }
}
