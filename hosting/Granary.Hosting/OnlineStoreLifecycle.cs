using Granary.Online;
using Granary.Online.Redis;
using Granary.Online.Sqlite;
using Granary.Repository;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Granary.Hosting;

/// <summary>
/// Opens the online store granary.yaml names (Redis, or the embedded SQLite file) at the silo's RuntimeServices stage,
/// before any grain runs, and closes it after grains are gone; <see cref="Store"/> is what grains receive as <see cref="IOnlineStore"/>.
/// </summary>
public sealed class OnlineStoreLifecycle(IOptions<GranaryOptions> options) : ILifecycleParticipant<ISiloLifecycle>
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
        _store = o.OnlineStore.Kind == OnlineStoreKind.Redis
            ? await RedisOnlineStore.ConnectAsync(new RedisOnlineStoreOptions { Configuration = o.OnlineStore.ConnectionString!, KeyTtl = o.OnlineKeyTtl })
            : await SqliteOnlineStore.OpenAsync(new SqliteOnlineStoreOptions { Path = o.Resolve(o.OnlineStore.Path!), KeyTtl = o.OnlineKeyTtl });
    }

    private async Task CloseAsync(CancellationToken cancellationToken)
    {
        if (_store is { } store) await store.DisposeAsync();
        _store = null;
    }
}
