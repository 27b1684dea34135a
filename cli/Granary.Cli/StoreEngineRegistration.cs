using Granary.Offline.DuckDb;
using Granary.Offline.Postgres;
using Granary.Online.Redis;
using Granary.Online.Sqlite;
using Granary.Registry.Sql;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Cli;

/// <summary>The CLI runs any repository, so it registers every store engine; hosting then opens the ones granary.yaml names.</summary>
public static class StoreEngineRegistration
{
    /// <summary>Registers every store engine Granary ships: SQL registries, SQLite and Redis online stores, DuckDB and PostgreSQL offline stores.</summary>
    public static IServiceCollection AddGranaryStoreEngines(this IServiceCollection services) => services
        .AddGranarySqlRegistryStores()
        .AddGranarySqliteOnlineStore()
        .AddGranaryRedisOnlineStore()
        .AddGranaryDuckDbOfflineStore()
        .AddGranaryPostgresOfflineStore();
}
