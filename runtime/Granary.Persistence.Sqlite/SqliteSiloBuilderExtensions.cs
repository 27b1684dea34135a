using Granary.Runtime.Hosting;

namespace Granary.Persistence.Sqlite;

/// <summary>Adds SQLite grain storage to a silo.</summary>
public static class SqliteSiloBuilderExtensions
{
    /// <summary>Adds a SQLite storage provider named <paramref name="name"/>.</summary>
    public static ISiloBuilder AddSqliteGrainStorage(this ISiloBuilder builder, string name, Action<SqliteGrainStorageOptions> configure)
    {
        var options = new SqliteGrainStorageOptions();
        configure(options);
        var storage = new SqliteGrainStorage(name, options);
        return builder.AddGrainStorage(name, _ => storage);
    }

    /// <summary>Adds a SQLite storage provider as the default one.</summary>
    public static ISiloBuilder AddSqliteGrainStorageAsDefault(this ISiloBuilder builder, Action<SqliteGrainStorageOptions> configure)
        => builder.AddSqliteGrainStorage("Default", configure);
}
