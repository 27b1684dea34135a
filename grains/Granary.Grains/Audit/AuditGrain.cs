using Granary.Audit;
using Microsoft.Extensions.Logging;

namespace Granary.Grains.Audit;

/// <summary>
/// Appends audit entries: numbers them after the stored log's last record, links each to the one before
/// (<see cref="AuditChain"/>), and stores a call's entries in one transaction. Not reentrant: calls are chained one after
/// another. Should a second activation ever append too (a cluster split), the store's key on the sequence number refuses
/// the later writer, which re-reads the log's end and appends after it, so the chain never forks.
/// </summary>
[GrainType("audit")]
public sealed partial class AuditGrain(IAuditStore store, ILogger<AuditGrain> logger) : Grain, IAuditGrain
{
    private const int Attempts = 3;
    private AuditRecord? _last;
    private bool _loaded;

    /// <inheritdoc/>
    public async Task<long> AppendAsync(IReadOnlyList<AuditEntry> entries)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (!_loaded)
            {
                _last = await store.GetLastAsync();
                _loaded = true;
            }
            var records = new List<AuditRecord>(entries.Count);
            var sequence = _last?.Sequence ?? 0;
            var previous = _last?.Hash ?? AuditChain.GenesisHash;
            foreach (var entry in entries)
            {
                var record = AuditChain.Link(++sequence, entry, previous);
                records.Add(record);
                previous = record.Hash;
            }
            try
            {
                await store.AppendAsync(records);
                if (records.Count > 0) _last = records[^1];
                return sequence;
            }
            catch (AuditSequenceConflictException) when (attempt < Attempts)
            {
                LogConflict(logger, sequence - entries.Count + 1);
                _loaded = false;
            }
            catch
            {
                // The store may or may not hold the batch (a commit whose answer was lost): read the end again next time.
                _loaded = false;
                throw;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audit record {Sequence} was already stored by another writer; re-reading the log's end")]
    private static partial void LogConflict(ILogger logger, long sequence);
}
