using Granary.Online;
using Granary.Stores;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Granary.Hosting;

/// <summary>
/// Opens the online store granary.yaml names (through the engine of that kind the host registered) at the silo's RuntimeServices stage,
/// before any grain runs, and closes it after grains are gone; <see cref="Store"/> is what grains receive as <see cref="IOnlineStore"/>.
/// </summary>
public sealed class OnlineStoreLifecycle(IOptions<GranaryOptions> options, IEnumerable<IOnlineStoreProvider> engines, TimeProvider time) : ILifecycleParticipant<ISiloLifecycle>
{
    private IOnlineStore? _store;

    /// <summary>The open store; throws when asked before the silo opened it.</summary>
    public IOnlineStore Store => _store ?? throw new InvalidOperationException("the online store is opened when the silo starts; it is not open yet");

    /// <inheritdoc/>
    public void Participate(ISiloLifecycle lifecycle)
        => lifecycle.Subscribe(nameof(OnlineStoreLifecycle), ServiceLifecycleStage.RuntimeServices, OpenAsync, CloseAsync);

    /// <summary>Opens the configured store (also usable without a silo, e.g. by the CLI).</summary>
    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var engine = StoreEngines.Pick(engines, e => e.Kind, o.OnlineStore.Kind, "online_store");
        _store = await engine.OpenAsync(StoreEngines.Settings(o, o.OnlineStore, time), cancellationToken);
    }

    private async Task CloseAsync(CancellationToken cancellationToken)
    {
        if (_store is { } store) await store.DisposeAsync();
        _store = null;
    }
}
