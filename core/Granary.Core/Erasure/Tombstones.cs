using System.Security.Cryptography;
using System.Text;
using Granary.Online;

namespace Granary.Erasure;

/// <summary>
/// An erased entity of one feature view: rows of that (view, entity) whose event time is at or before <see cref="ErasedAt"/>
/// are dropped wherever Granary writes (push, stream ingestion, materialization). The entity is held only as a keyed hash
/// (<see cref="EntityKeyHash"/>), never in the clear.
/// </summary>
/// <param name="Project">The project.</param>
/// <param name="FeatureView">The view the entity was erased from.</param>
/// <param name="KeyHash">HMAC-SHA256 of the entity's canonical key under the deployment's erasure secret, lower-case hex.</param>
/// <param name="ErasedAt">When the erasure ran (UTC).</param>
public sealed record Tombstone(string Project, string FeatureView, string KeyHash, DateTimeOffset ErasedAt);

/// <summary>Where the tombstones and the secret their hashes are keyed with live: the registry database (SQLite embedded, PostgreSQL in a cluster).</summary>
public interface ITombstoneStore
{
    /// <summary>Creates the tables when missing.</summary>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>The deployment's erasure secret (32 random bytes), created on first use; every process of a deployment reads the same one.</summary>
    Task<byte[]> GetErasureSecretAsync(CancellationToken cancellationToken = default);

    /// <summary>Stores tombstones; one already held for the same (project, view, hash) takes the later erasure time.</summary>
    Task RecordTombstonesAsync(IReadOnlyList<Tombstone> tombstones, CancellationToken cancellationToken = default);

    /// <summary>Every tombstone of <paramref name="project"/>.</summary>
    Task<IReadOnlyList<Tombstone>> ListTombstonesAsync(string project, CancellationToken cancellationToken = default);
}

/// <summary>The keyed hash tombstones and audit records name an entity by: HMAC-SHA256 of its canonical key.</summary>
public static class EntityKeyHash
{
    /// <summary>Lower-case hex HMAC-SHA256 of <paramref name="entity"/>'s canonical text under <paramref name="secret"/>.</summary>
    public static string Of(byte[] secret, EntityKey entity)
        => Convert.ToHexStringLower(HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(entity.Canonical)));
}

/// <summary>
/// The tombstones of one project, by view, as the write paths consult them: a view without tombstones costs one dictionary
/// miss per row; only a view with tombstones hashes the row's entity key.
/// </summary>
public sealed class TombstoneSet
{
    private readonly byte[] _secret;
    private readonly Dictionary<string, Dictionary<string, DateTimeOffset>> _byView;

    /// <summary>The set of <paramref name="tombstones"/> (all of one project), hashed under <paramref name="secret"/>.</summary>
    public TombstoneSet(byte[] secret, IEnumerable<Tombstone> tombstones)
    {
        _secret = secret;
        _byView = new(StringComparer.Ordinal);
        foreach (var t in tombstones)
        {
            if (!_byView.TryGetValue(t.FeatureView, out var keys)) _byView[t.FeatureView] = keys = new(StringComparer.Ordinal);
            if (!keys.TryGetValue(t.KeyHash, out var at) || at < t.ErasedAt) keys[t.KeyHash] = t.ErasedAt;
        }
    }

    /// <summary>How many tombstones the set holds.</summary>
    public int Count => _byView.Values.Sum(v => v.Count);

    /// <summary>Whether <paramref name="view"/> has any tombstone (when not, nothing of it is ever dropped).</summary>
    public bool Covers(string view) => _byView.ContainsKey(view);

    /// <summary>Whether any of <paramref name="rows"/> belongs to a view with tombstones (when not, no key is hashed).</summary>
    public bool CoversAny(IReadOnlyList<OnlineRow> rows)
    {
        foreach (var row in rows)
            if (_byView.ContainsKey(row.FeatureView)) return true;
        return false;
    }

        /// <summary>Whether a row of <paramref name="view"/> for <paramref name="entity"/> at <paramref name="eventTime"/> was erased (event time at or before the erasure).</summary>
    public bool Buries(string view, EntityKey entity, DateTimeOffset eventTime)
        => _byView.TryGetValue(view, out var keys)
           && keys.TryGetValue(EntityKeyHash.Of(_secret, entity), out var erasedAt)
           && eventTime <= erasedAt;
}
