using Granary.Repository;
using Granary.Stores;

namespace Granary.Audit;

/// <summary>
/// Where audit records are kept: append-only, one row per record keyed by its sequence number (a second writer of the
/// same number fails with <see cref="AuditSequenceConflictException"/>, so the chain never forks).
/// </summary>
public interface IAuditStore
{
    /// <summary>Creates the schema when missing.</summary>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>The newest record, or null when the log is empty.</summary>
    Task<AuditRecord?> GetLastAsync(CancellationToken cancellationToken = default);

    /// <summary>Stores <paramref name="records"/> (consecutive, already chained) in one transaction: all or none.</summary>
    Task AppendAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken = default);

    /// <summary>Every record in sequence order, as stored (for verification).</summary>
    IAsyncEnumerable<AuditRecord> ReadAllAsync(CancellationToken cancellationToken = default);

    /// <summary>The newest records matching <paramref name="query"/>, oldest first.</summary>
    Task<IReadOnlyList<AuditRecord>> TailAsync(AuditQuery query, CancellationToken cancellationToken = default);
}

/// <summary>An append met a sequence number already stored: another writer appended first.</summary>
public sealed class AuditSequenceConflictException(long sequence)
    : GranaryException($"audit record {sequence} is already stored; another writer appended to the log", "the writer re-reads the log's end and appends after it");

/// <summary>One audit engine a host can run; the host picks the kind the audit options name (the registry's engine by default).</summary>
public interface IAuditStoreProvider
{
    /// <summary>The engine: SQLite (embedded) or PostgreSQL (cluster), as for the registry.</summary>
    RegistryStoreKind Kind { get; }

    /// <summary>Creates the store (its schema is created by <see cref="IAuditStore.InitializeAsync"/>).</summary>
    IAuditStore Create(StoreSettings settings);
}
