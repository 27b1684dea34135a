using Orleans.Runtime;

namespace Granary.Cluster.Tests;

/// <summary>Starting Granary silo processes of one cluster the way the cluster tests need them.</summary>
internal static class SiloProcesses
{
    /// <summary>
    /// Starts <paramref name="count"/> silo processes serving <paramref name="repo"/> one at a time, each Active in the
    /// membership table before the next joins (three joining at once on a busy machine can miss each other's probes), and
    /// adds them to <paramref name="silos"/>; fails with their output when one exits.
    /// </summary>
    public static async Task StartOneByOneAsync(List<SiloProcess> silos, TestDatabase database, string clusterId, string repo, int count, TimeSpan limit)
    {
        for (var i = 0; i < count; i++)
        {
            silos.Add(SiloProcess.Start("--cluster-id", clusterId, "--name", $"silo-{i}", "--postgres", database.ConnectionString, "--repo", repo));
            var active = i + 1;
            await Eventually.WaitUntil(
                () => silos.Any(s => s.HasExited) || database.QueryOrEmpty<int>(
                    $"SELECT status FROM granary_membership WHERE cluster_id = '{clusterId}'").Count(s => s == (int)SiloStatus.Active) == active,
                limit, $"{active} Active silo processes");
            Assert.False(silos.Any(s => s.HasExited), "a silo exited at start:\n" + string.Join("\n", silos.Select(s => s.Output)));
        }
    }
}
