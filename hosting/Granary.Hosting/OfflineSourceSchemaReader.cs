using Granary.Definitions;
using Granary.Offline;
using Granary.Repository;

namespace Granary.Hosting;

/// <summary>Reads a source's real columns through whichever offline store reads that kind of source.</summary>
public sealed class OfflineSourceSchemaReader(IReadOnlyList<IOfflineStore> stores, GranaryOptions options) : ISourceSchemaReader
{
    /// <inheritdoc/>
    public async Task<IReadOnlyList<Repository.SourceColumn>> ReadColumnsAsync(DataSource source, string repositoryRoot, CancellationToken cancellationToken)
    {
        var store = stores.FirstOrDefault(s => s.CanRead(source));
        if (store is null)
        {
            var hint = source is PostgresSource && options.OfflineStore.Kind != OfflineStoreKind.Postgres
                ? "set offline_store: { type: postgres, connection_string: ... } in granary.yaml"
                : "no configured offline store reads it";
            throw new SourceSchemaUnavailableException(hint);
        }
        var columns = await store.GetSourceSchemaAsync(source, cancellationToken);
        return columns.Select(c => new Repository.SourceColumn(c.Name, c.EngineType, c.ValueType)).ToList();
    }
}

/// <summary>No configured offline store reads a source, so its columns cannot be checked; the message says which setting to add.</summary>
public sealed class SourceSchemaUnavailableException(string hint) : GranaryException(hint);
