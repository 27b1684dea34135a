using System.Collections.Concurrent;

namespace Granary.Offline.DuckDb;

/// <summary>
/// Keeps readers of a single-file Parquet source and the append that replaces that file apart, within one process.
/// DuckDB opens a file path more than once in one operation (to describe it, to check its keys, to scan it), so a rename
/// between two of those opens would show it two different files. Readers share a file's gate for a whole operation; a
/// replacement holds it alone only for the rename. A waiting replacement stops new readers from entering, so a steady
/// stream of reads cannot starve it. A folder source has a gate too (its path): an append adds a new file and needs none,
/// but an erasure replaces files of the folder.
/// </summary>
internal static class SingleFileGates
{
    private static readonly ConcurrentDictionary<string, Gate> Gates = new(StringComparer.Ordinal);

    /// <summary>
    /// Enters the gates of <paramref name="paths"/> (files that are not there are skipped) as a reader, in path order so
    /// two readers of the same files never wait on each other across a replacement. Dispose the result to leave.
    /// </summary>
    public static async Task<IDisposable> ReadAsync(IEnumerable<string> paths, CancellationToken cancellationToken)
    {
        var entered = new List<Gate>();
        try
        {
            foreach (var path in paths.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                var gate = Gates.GetOrAdd(path, _ => new Gate());
                await gate.EnterReadAsync(cancellationToken).ConfigureAwait(false);
                entered.Add(gate);
            }
        }
        catch
        {
            foreach (var gate in entered) gate.ExitRead();
            throw;
        }
        return new Readers(entered);
    }

    /// <summary>Synchronous <see cref="ReadAsync"/>, for operations that already run on a pool thread of their own.</summary>
    public static IDisposable Read(IEnumerable<string> paths, CancellationToken cancellationToken)
        => ReadAsync(paths, cancellationToken).GetAwaiter().GetResult();

    /// <summary>Runs <paramref name="replace"/> (the rename) once no reader of <paramref name="path"/> is inside.</summary>
    public static void Replace(string path, Action replace, CancellationToken cancellationToken)
    {
        var gate = Gates.GetOrAdd(path, _ => new Gate());
        gate.EnterWriteAsync(cancellationToken).GetAwaiter().GetResult();
        try
        {
            replace();
        }
        finally
        {
            gate.ExitWrite();
        }
    }

    private sealed class Readers(List<Gate> gates) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
            foreach (var gate in gates) gate.ExitRead();
        }
    }

    // A fair reader-writer gate usable across awaits: a writer takes the turnstile while it waits for the readers inside
    // to leave, so readers that arrive after it queue behind it.
    private sealed class Gate
    {
        private readonly SemaphoreSlim _turnstile = new(1, 1);
        private readonly SemaphoreSlim _empty = new(1, 1);
        private readonly object _count = new();
        private int _readers;

        public async Task EnterReadAsync(CancellationToken cancellationToken)
        {
            await _turnstile.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                bool first;
                lock (_count) first = ++_readers == 1;
                if (first)
                {
                    try
                    {
                        await _empty.WaitAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch
                    {
                        lock (_count) _readers--;
                        throw;
                    }
                }
            }
            finally
            {
                _turnstile.Release();
            }
        }

        public void ExitRead()
        {
            bool last;
            lock (_count) last = --_readers == 0;
            if (last) _empty.Release();
        }

        public async Task EnterWriteAsync(CancellationToken cancellationToken)
        {
            await _turnstile.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await _empty.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _turnstile.Release();
            }
        }

        public void ExitWrite() => _empty.Release();
    }
}
