using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Granary.Testing;
using StackExchange.Redis;

namespace Granary.Streams.Tests;

/// <summary>
/// <c>granary ingest</c> on real Redis Streams into the push path: every event takes effect once online and offline through
/// duplicate deliveries and a worker killed with SIGKILL; bad events go to the dead-letter stream while the rest flow;
/// workers sharing a stream process each event once. Tests use different push sources (a, b, c) of one server.
/// </summary>
public sealed partial class StreamIngestTests(StreamServer server) : IClassFixture<StreamServer>
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);
    private static readonly DateTimeOffset Start = new(2024, 3, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Event <paramref name="seq"/>: user seq % users, clicks = seq, a unique event time per event.</summary>
    private static NameValueEntry[] Event(string n, int seq, int users) =>
    [
        new("id", $"{n}-{seq}"),
        new("ts", Start.AddSeconds(seq).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)),
        new("uid", (seq % users).ToString(CultureInfo.InvariantCulture)),
        new("n", seq.ToString(CultureInfo.InvariantCulture)),
        new("page", $"p{seq % 7}"),
    ];

    private async Task AddAsync(string key, IEnumerable<NameValueEntry[]> events)
    {
        var db = server.Redis.GetDatabase();
        foreach (var chunk in events.Chunk(500))
            await Task.WhenAll(chunk.Select(e => db.StreamAddAsync(key, e)));
    }

    private string[] Ingest(string n, params string[] more) =>
        ["ingest", $"clicks_{n}", "--repo", server.RepositoryRoot, "--server", server.Gateway.GrpcUrl, .. more];

    /// <summary>Checks each distinct event is stored exactly once offline, and online each user holds its newest event.</summary>
    private async Task AssertExactlyOnceAsync(string n, IReadOnlyList<int> distinct, int users)
    {
        var offline = server.OfflineRows(n);
        Assert.Equal(distinct.Count, offline.Count);
        Assert.Equal(distinct.Order(), offline.Select(r => (int)r.Clicks).Order());
        foreach (var row in offline) Assert.Equal(row.Clicks % users, row.User);

        var expected = distinct.GroupBy(seq => (long)(seq % users)).ToDictionary(g => g.Key, g => (long?)g.Max());
        var online = await server.OnlineClicksAsync(n, [.. expected.Keys]);
        Assert.Equal(expected.OrderBy(e => e.Key), online.OrderBy(e => e.Key));
    }

    private async Task<(long Pending, long Lag)> GroupAsync(string key)
    {
        var group = (await server.Redis.GetDatabase().StreamGroupInfoAsync(key)).Single(g => g.Name == "granary");
        return (group.PendingMessageCount, group.Lag ?? -1);
    }

    [Fact]
    public async Task Ten_thousand_events_with_ten_percent_duplicates_and_a_SIGKILLed_worker_take_effect_exactly_once_online_and_offline()
    {
        const int distinct = 9_000, users = 500;
        // 9,000 events, then 1,000 of them again (an at-least-once producer's redeliveries): 10,000 entries.
        var random = new Random(7);
        var redelivered = Enumerable.Range(0, distinct).OrderBy(_ => random.Next()).Take(1_000).ToList();
        await AddAsync("clicks-a", Enumerable.Range(0, distinct).Concat(redelivered).Select(seq => Event("a", seq, users)));
        Assert.Equal(10_000, await server.Redis.GetDatabase().StreamLengthAsync("clicks-a"));

        // A worker process, killed with SIGKILL once part of the stream is stored offline: its read and unacknowledged
        // events stay pending in the group.
        using (var first = WorkerProcess.Start(Ingest("a", "--consumer", "doomed")))
        {
            await Eventually.WaitUntil(() => first.HasExited || server.OfflineRows("a").Count >= 2_000, Limit, $"the first worker to store 2,000 rows; it printed:\n{first.Output}");
            Assert.False(first.HasExited, first.Output);
            first.Kill();
        }
        var (pendingAfterKill, _) = await GroupAsync("clicks-a");
        Assert.True(server.OfflineRows("a").Count < distinct, "the kill came after everything was stored; the test proves nothing");

        // A second worker claims the dead worker's pending events after claim_after and reads the rest.
        using (var second = WorkerProcess.Start(Ingest("a", "--consumer", "survivor", "--until-caught-up")))
        {
            Assert.Equal(0, await second.WaitForExitAsync(Limit));
            if (pendingAfterKill > 0) Assert.Matches(@"claimed [1-9]", second.Output);
        }
        Assert.Equal((0L, 0L), await GroupAsync("clicks-a"));
        await AssertExactlyOnceAsync("a", Enumerable.Range(0, distinct).ToList(), users);
    }

    [Fact]
    public async Task A_poison_event_lands_in_the_dead_letter_stream_with_its_reason_while_the_rest_flow()
    {
        const int users = 10;
        var events = Enumerable.Range(0, 60).Select(seq => Event("b", seq, users)).ToList();
        // A click count that is not a number (refused by the push path's validation) and an event without its id (unmappable).
        events.Insert(20, [new("id", "b-poison"), new("ts", "2024-03-01T00:00:30Z"), new("uid", "3"), new("n", "lots"), new("page", "x")]);
        events.Insert(40, [new("ts", "2024-03-01T00:00:40Z"), new("uid", "4"), new("n", "1"), new("page", "x")]);
        await AddAsync("clicks-b", events);

        var (code, output) = await CliRunner.RunAsync(250, Ingest("b", "--until-caught-up"), new CancellationTokenSource(Limit).Token);
        Assert.True(code == 0, output);
        Assert.Contains("dead-lettered 2", output);
        await AssertExactlyOnceAsync("b", Enumerable.Range(0, 60).ToList(), users);

        var (listed, letters) = await CliRunner.RunAsync(250, Ingest("b", "--dead-letters"), new CancellationTokenSource(Limit).Token);
        Assert.True(listed == 0, letters);
        Assert.Contains("2 dead letters in clicks-b:dead-letter", letters);
        Assert.Contains("column 'clicks': value 'lots' is not a whole number in range", letters);
        Assert.Contains("the event id field 'id' is missing or empty", letters);
        Assert.Contains("n=lots", letters);
        Assert.Equal((0L, 0L), await GroupAsync("clicks-b"));
    }

    [Fact]
    public async Task Two_workers_on_one_stream_process_each_event_once()
    {
        const int count = 3_000, users = 100;
        await AddAsync("clicks-c", Enumerable.Range(0, count).Select(seq => Event("c", seq, users)));

        using var deadline = new CancellationTokenSource(Limit);
        var workers = await Task.WhenAll(
            CliRunner.RunAsync(250, Ingest("c", "--consumer", "one", "--until-caught-up"), deadline.Token),
            CliRunner.RunAsync(250, Ingest("c", "--consumer", "two", "--until-caught-up"), deadline.Token));
        foreach (var (code, output) in workers) Assert.True(code == 0, output);

        // Each event was pushed by one worker only: the pushed counts add up to the stream and no push met a duplicate.
        var finals = workers.Select(w => FinalCounts().Matches(w.Output).Last()).ToList();
        Assert.Equal(count, finals.Sum(m => long.Parse(m.Groups["pushed"].Value, CultureInfo.InvariantCulture)));
        Assert.All(finals, m => Assert.Equal("0", m.Groups["duplicates"].Value));
        Assert.Equal((0L, 0L), await GroupAsync("clicks-c"));
        await AssertExactlyOnceAsync("c", Enumerable.Range(0, count).ToList(), users);
    }

    [GeneratedRegex(@"pushed (?<pushed>\d+), duplicates (?<duplicates>\d+)")]
    private static partial Regex FinalCounts();
}

/// <summary>A <c>granary</c> CLI process (dotnet granary.dll ...), to be killed with SIGKILL.</summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private WorkerProcess(Process process) => _process = process;

    public bool HasExited => _process.HasExited;

    public string Output { get { lock (_output) return _output.ToString(); } }

    public static WorkerProcess Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "granary.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet granary.dll");
        var worker = new WorkerProcess(process);
        process.OutputDataReceived += (_, e) => { lock (worker._output) worker._output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (worker._output) worker._output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>SIGKILL: no chance to acknowledge or clean up.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public async Task<int> WaitForExitAsync(TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"the worker did not finish within {limit}; it printed:\n{Output}");
        }
        return _process.ExitCode;
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
