namespace Granary.Grains.Diagnostics;

/// <summary>Answers where it runs: the cheapest grain call there is, for liveness checks and benchmarks.</summary>
[Alias("granary.diagnostics.ping")]
public interface IPingGrain : IGrainWithStringKey
{
    /// <summary>The identity of the silo hosting this activation (address, port, generation).</summary>
    [Alias("ping")]
    Task<string> Ping();

    /// <summary>Does nothing: a round trip without a result to allocate.</summary>
    [Alias("touch")]
    ValueTask Touch();
}

/// <inheritdoc cref="IPingGrain"/>
[GrainType("granary.diagnostics.ping")]
public sealed class PingGrain : Grain, IPingGrain
{
    /// <inheritdoc/>
    public Task<string> Ping() => Task.FromResult(RuntimeIdentity);

    /// <inheritdoc/>
    public ValueTask Touch() => ValueTask.CompletedTask;
}
