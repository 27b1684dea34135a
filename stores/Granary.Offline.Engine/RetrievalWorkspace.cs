using DuckDB.NET.Data;

namespace Granary.Offline.Engine;

/// <summary>
/// One retrieval's DuckDB session: its connection, the names of its scratch tables, and a second connection for writes
/// that happen while the first one streams a result (DuckDB allows one active query per connection: an appender
/// flushing on the streaming connection, which it does every 204,800 rows, closes the stream). Disposing drops the on-demand
/// table and closes the connection, which takes its temporary tables and views with it.
/// </summary>
public sealed class RetrievalWorkspace : IDisposable
{
    private static long _lastId;
    private readonly Func<DuckDBConnection> _connect;

    /// <summary>Opens the session's connection with <paramref name="connect"/> (e.g. <see cref="DuckDbEngine.Connect"/>), which also opens its writer connections.</summary>
    public RetrievalWorkspace(Func<DuckDBConnection> connect)
    {
        _connect = connect;
        Connection = connect();
        var id = Interlocked.Increment(ref _lastId);
        // Temporary tables belong to this connection; the on-demand table must be seen by the writing connection too,
        // so it lives in the main schema under a name no concurrent retrieval uses.
        OnDemandTable = $"granary_on_demand_{id}";
    }

    /// <summary>The connection the retrieval runs on.</summary>
    public DuckDBConnection Connection { get; }

    /// <summary>The entity dataframe (temporary).</summary>
    public string EntityTable => "granary_entities";

    /// <summary>The joined rows with internal columns, when on-demand views or a remote join need a staging step (temporary).</summary>
    public string JoinedTable => "granary_joined";

    /// <summary>Feature rows streamed back from a remote engine (temporary).</summary>
    public string RemoteFeaturesTable => "granary_remote_features";

    /// <summary>On-demand outputs keyed by entity row id (main schema, unique per retrieval).</summary>
    public string OnDemandTable { get; }

    /// <summary>A second connection to the same database, for appending while <see cref="Connection"/> streams.</summary>
    public DuckDBConnection OpenWriter() => _connect();

    /// <summary>Drops the on-demand table and closes the connection.</summary>
    public void Dispose()
    {
        try
        {
            // Temporary tables and views (the entity dataframe, the joined rows, remote features) belong to this
            // connection and go when it closes below; only the on-demand table lives in the shared database.
            Connection.Execute($"DROP TABLE IF EXISTS {OnDemandTable}");
        }
        catch (DuckDBException)
        {
            // The on-demand table then remains until the database closes.
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            Connection.Dispose();
        }
    }
}
