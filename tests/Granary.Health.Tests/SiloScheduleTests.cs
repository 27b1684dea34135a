using System.Globalization;
using System.Diagnostics.Metrics;
using Granary.Cli;
using Granary.Definitions;
using Granary.FeatureHealth;
using Granary.Grains.Health;
using Granary.Grains.Registry;
using Granary.Hosting;
using Granary.Offline.DuckDb;
using Granary.Registry;
using Granary.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Core.Internal;
using Orleans.Runtime;

namespace Granary.Health.Tests;

/// <summary>
/// A silo with no gateway (what <c>granary serve</c> and a cluster silo run): it schedules the health checks itself, its
/// scheduled drift check reads a Parquet baseline, and its gauges are withdrawn when the health grain deactivates.
/// </summary>
/// <remarks>The view's name is used by no other test class, so gauges other fixtures publish in this process never match it.</remarks>
public sealed class SiloScheduleTests(SiloScheduleTests.Silo silo) : IClassFixture<SiloScheduleTests.Silo>
{
    public const string View = "silo_only_stats";

    /// <summary>An embedded silo over a fresh repository whose granary.yaml schedules parity and drift; no gateway runs.</summary>
    public sealed class Silo : IAsyncLifetime
    {
        private readonly string _root = Directory.CreateTempSubdirectory("granary-silo-health-").FullName;

        public string Project { get; } = "hs" + Guid.NewGuid().ToString("N")[..8];
        public EmbeddedFeatureStore Store { get; private set; } = null!;
        public const int BaselineRows = 50;

        public async Task InitializeAsync()
        {
            await File.WriteAllTextAsync(Path.Combine(_root, "granary.yaml"), $"""
                project: {Project}
                health:
                  parity_every: 1h
                  parity_views: [{View}]
                  drift_every: 2h
                  drift_baseline: data/train.parquet
                  drift_views: [{View}]
                """);
            WriteData();
            Store = await EmbeddedFeatureStore.StartAsync(_root);
            await Store.Grains.GetGrain<IRegistryGrain>(Project).ApplyAsync(new ApplyRequest(new RegistrySnapshot
            {
                Project = Project,
                Entities = [new Entity { Name = "driver", JoinKey = "driver_id" }],
                DataSources = [new FileSource { Name = "drivers", Path = "data/drivers.parquet", TimestampField = "event_timestamp" }],
                FeatureViews =
                [
                    new FeatureView
                    {
                        Name = View, Entities = ["driver"], Source = "drivers", Ttl = TimeSpan.FromDays(1),
                        Features = [new Field("conv_rate", new(ScalarType.Float64)), new Field("tier", new(ScalarType.String))],
                    },
                ],
            }, ExpectedVersion: 0, Force: false));
        }

        public async Task DisposeAsync()
        {
            if (Store is not null) await Store.DisposeAsync();
            try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
        }

        private void WriteData()
        {
            var data = Directory.CreateDirectory(Path.Combine(_root, "data")).FullName;
            var hourAgo = DateTimeOffset.UtcNow.AddHours(-1).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
            DuckDbScript.Run($"""
                COPY (SELECT i::BIGINT AS driver_id, TIMESTAMPTZ '{hourAgo}+00' AS event_timestamp, i / 10.0 AS conv_rate,
                             CASE i % 2 WHEN 0 THEN 'gold' ELSE 'silver' END AS tier
                      FROM range(1, 11) r(i)) TO '{data}/drivers.parquet' (FORMAT parquet);
                COPY (SELECT i / 50.0 AS {View}__conv_rate, CASE i % 2 WHEN 0 THEN 'gold' ELSE 'silver' END AS tier
                      FROM range(0, {BaselineRows}) r(i)) TO '{data}/train.parquet' (FORMAT parquet);
                """);
        }
    }

    [Fact]
    public async Task A_silo_without_a_gateway_registers_the_reminders_granary_yaml_sets()
    {
        var grain = silo.Store.Grains.GetGrain<IFeatureHealthGrain>(silo.Project);
        var table = silo.Store.Services.GetRequiredService<Orleans.IReminderTable>();
        List<ReminderEntry> reminders = [];
        // Nothing here calls EnsureScheduleAsync: the silo's lifecycle participant does, in the background, once active.
        for (var i = 0; i < 200 && reminders.Count < 2; i++)
        {
            reminders = [.. (await table.ReadRows(grain.GetGrainId())).Reminders];
            if (reminders.Count < 2) await Task.Delay(100);
        }
        Assert.Equal(TimeSpan.FromHours(1), Assert.Single(reminders, r => r.ReminderName == "parity-schedule").Period);
        Assert.Equal(TimeSpan.FromHours(2), Assert.Single(reminders, r => r.ReminderName == "drift-schedule").Period);
    }

    [Fact]
    public async Task The_silo_reads_parquet_baselines_and_its_scheduled_drift_check_accepts_one()
    {
        Assert.IsType<DuckDbTrainingSetReader>(silo.Store.Services.GetRequiredService<ITrainingSetReader>());
        var grain = silo.Store.Grains.GetGrain<IFeatureHealthGrain>(silo.Project);
        // The tick runs the drift check of granary.yaml (data/train.parquet); a CSV-only reader would fail on it.
        await grain.ReceiveReminder("drift-schedule", default);
        var result = Assert.Single((await grain.GetDriftAsync()).Views, v => v.FeatureView == View);
        Assert.Equal(Silo.BaselineRows, result.BaselineRows);
        Assert.Equal(0, result.ServedRows);
        Assert.Equal(["conv_rate", "tier"], result.Features.Select(f => f.Feature).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Deactivating_the_health_grain_withdraws_its_gauges_and_the_next_activation_publishes_them_again()
    {
        var grain = silo.Store.Grains.GetGrain<IFeatureHealthGrain>(silo.Project);
        await grain.ReceiveReminder("parity-schedule", default);
        var rate = Assert.Single((await grain.GetParityAsync()).Views, v => v.FeatureView == View).ParityRate;
        Assert.Equal(rate, ObserveParityRate());

        // As when the grain moves to another silo: this process must stop reporting the view.
        await grain.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        double? observed = rate;
        for (var i = 0; i < 200 && observed is not null; i++)
        {
            await Task.Delay(50);
            observed = ObserveParityRate();
        }
        Assert.Null(observed);

        // A new activation shows the last result (kept in grain state) at once, without a new check.
        Assert.Contains((await grain.GetParityAsync()).Views, v => v.FeatureView == View);
        Assert.Equal(rate, ObserveParityRate());
    }

    private static double? ObserveParityRate()
    {
        double? rate = null;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == HealthMetrics.MeterName && instrument.Name == HealthMetrics.Names.ParityRate) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag.Key == "feature_view" && (string?)tag.Value == View) rate = value;
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return rate;
    }
}
