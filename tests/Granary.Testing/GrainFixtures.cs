using Granary.Definitions;
using Granary.Grains.Online;
using Granary.Grains.Registry;
using Granary.Registry;

namespace Granary.Testing;

/// <summary>What a fixture does through the grains to set a project up: apply definitions, materialize views.</summary>
public static class GrainFixtures
{
    /// <summary>Applies <paramref name="definitions"/> to their project's registry, expecting it at <paramref name="expectedVersion"/>.</summary>
    public static Task ApplyAsync(this IGrainFactory grains, RegistrySnapshot definitions, long expectedVersion = 0) =>
        grains.GetGrain<IRegistryGrain>(definitions.Project).ApplyAsync(new ApplyRequest(definitions, expectedVersion, Force: false));

    /// <summary>
    /// Starts a full materialization of <paramref name="project"/>/<paramref name="view"/> over [start, end) and polls until
    /// it finishes; answers the final status, whatever its state.
    /// </summary>
    public static async Task<MaterializationStatus> MaterializeAndWaitAsync(this IGrainFactory grains, string project, string view,
        DateTimeOffset start, DateTimeOffset end)
    {
        var grain = grains.GetGrain<IMaterializationGrain>($"{project}/{view}");
        var status = await grain.StartAsync(start, end, incremental: false);
        while (!status.IsFinished)
        {
            await Task.Delay(50);
            status = await grain.GetStatusAsync();
        }
        return status;
    }

    /// <summary>As <see cref="MaterializeAndWaitAsync"/>, and throws unless the run succeeded (a fixture cannot go on without it).</summary>
    public static async Task MaterializeAsync(this IGrainFactory grains, string project, string view, DateTimeOffset start, DateTimeOffset end)
    {
        var status = await grains.MaterializeAndWaitAsync(project, view, start, end);
        if (status.State != MaterializationRunState.Succeeded) throw new InvalidOperationException($"fixture: materializing {view} failed: {status.Error}");
    }
}
