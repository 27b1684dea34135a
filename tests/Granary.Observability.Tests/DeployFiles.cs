namespace Granary.Observability.Tests;

/// <summary>The shipped files under deploy/prometheus, found from the test's output folder.</summary>
public static class DeployFiles
{
    /// <summary>deploy/prometheus of this checkout.</summary>
    public static string PrometheusFolder { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "deploy", "prometheus");
            if (File.Exists(Path.Combine(candidate, "granary-alerts.yml"))) return candidate;
        }
        throw new DirectoryNotFoundException($"deploy/prometheus/granary-alerts.yml not found above {AppContext.BaseDirectory}");
    }
}
