using Granary.Repository;

namespace Granary.Health.Tests;

/// <summary>granary.yaml's health: and feature_logging: keys: values read, defaults, and messages that name the key and the fix.</summary>
public sealed class HealthConfigTests
{
    [Fact]
    public void Keys_are_read_with_their_values()
    {
        var config = RepositoryConfig.Parse("""
            project: demo
            health:
              parity_every: 1h
              parity_sample: 50
              parity_views: [driver_stats]
              drift_every: 6h
              drift_baseline: data/train.parquet
              drift_window: 12h
              psi_threshold: 0.25
              ks_p_value: 0.001
              ks_d_threshold: 0.1
              chi_square_p_value: 0.05
              null_rate_threshold: 0.02
            feature_logging:
              sample_rate: 0.1
              services: {driver_service: 1.0}
              path: logs/served
              queue_capacity: 500
              batch_size: 100
              flush_every: 2s
            """, "granary.yaml");
        Assert.Equal(TimeSpan.FromHours(1), config.Health.ParityEvery);
        Assert.Equal(50, config.Health.ParitySample);
        Assert.Equal(["driver_stats"], config.Health.ParityViews);
        Assert.Equal(TimeSpan.FromHours(6), config.Health.DriftEvery);
        Assert.Equal("data/train.parquet", config.Health.DriftBaseline);
        Assert.Equal(TimeSpan.FromHours(12), config.Health.DriftWindow);
        Assert.Equal(new DriftThresholds { Psi = 0.25, KsPValue = 0.001, KsD = 0.1, ChiSquarePValue = 0.05, NullRate = 0.02 }, config.Health.Thresholds);
        Assert.Equal(0.1, config.FeatureLogging.SampleRate);
        Assert.Equal(1.0, config.FeatureLogging.Services["driver_service"]);
        Assert.Equal("logs/served", config.FeatureLogging.Path);
        Assert.Equal(500, config.FeatureLogging.QueueCapacity);
        Assert.Equal(100, config.FeatureLogging.BatchSize);
        Assert.Equal(TimeSpan.FromSeconds(2), config.FeatureLogging.FlushEvery);
    }

    [Fact]
    public void Defaults_leave_logging_off_and_checks_unscheduled()
    {
        var config = RepositoryConfig.Parse("project: demo\n", "granary.yaml");
        Assert.Null(config.Health.ParityEvery);
        Assert.Null(config.Health.DriftEvery);
        Assert.Equal(new DriftThresholds { Psi = 0.2, KsPValue = 0.01, KsD = null, ChiSquarePValue = 0.01, NullRate = 0.01 }, config.Health.Thresholds);
        Assert.False(config.FeatureLogging.Enabled);
        Assert.Equal("data/feature_logs", config.FeatureLogging.Path);
    }

    [Theory]
    [InlineData("health:\n  parity_every: 30s", "granary.yaml:3: health.parity_every 30s is shorter than a minute, the shortest schedule Orleans reminders run; use 1m or more")]
    [InlineData("health:\n  drift_every: 1h", "granary.yaml:3: health.drift_every needs health.drift_baseline (the training set to compare with); add it or remove drift_every")]
    [InlineData("health:\n  psi_threshold: high", "granary.yaml:3: health.psi_threshold 'high' must be a number above 0, e.g. 0.2")]
    [InlineData("health:\n  ks_p_value: 2", "granary.yaml:3: health.ks_p_value '2' must be a number between 0 and 1, e.g. 0.01")]
    [InlineData("health:\n  parity_sample: 0", "granary.yaml:3: health.parity_sample '0' must be a whole number of entities between 1 and 1000000")]
    [InlineData("health:\n  parity_evry: 1h", "granary.yaml:3: health: unknown key 'parity_evry'; known: parity_every, parity_sample, parity_views, drift_every, drift_baseline, drift_window, drift_views, psi_threshold, ks_p_value, ks_d_threshold, chi_square_p_value, null_rate_threshold")]
    [InlineData("feature_logging:\n  sample_rate: 1.5", "granary.yaml:3: feature_logging.sample_rate '1.5' must be a number between 0 and 1, e.g. 0.01")]
    [InlineData("feature_logging:\n  services: {svc: lots}", "granary.yaml:3: feature_logging.services.svc: sample rate 'lots' must be a number between 0 and 1, e.g. 0.1")]
    [InlineData("feature_logging: 0.1", "granary.yaml:2: 'feature_logging' must be a mapping (e.g. sample_rate: 0.1)")]
    public void Bad_values_are_refused_naming_the_key_and_the_fix(string yaml, string message)
    {
        var error = Assert.Throws<RepositoryValidationException>(() => RepositoryConfig.Parse("project: demo\n" + yaml + "\n", "granary.yaml"));
        Assert.Equal(message, Assert.Single(error.Errors).ToString());
    }
}
