using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;

namespace Granary.Clustering.PostgreSql;

/// <summary>Applies <see cref="PostgresOrleansSchema"/> when a silo starts, before its membership table is read.</summary>
internal sealed partial class PostgresSchemaInitializer(PostgresClusteringSettings settings, ILogger<PostgresSchemaInitializer> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    // Membership (MembershipTableManager) and the reminder table initialise at RuntimeInitialize and later; one step
    // earlier guarantees the tables and query texts exist when the ADO.NET providers first read OrleansQuery.
    internal const int Stage = ServiceLifecycleStage.RuntimeInitialize - 1;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(PostgresSchemaInitializer), Stage, ApplyAsync);

    private async Task ApplyAsync(CancellationToken cancellationToken)
    {
        var builder = PostgresOrleansSchema.ParseConnectionString(settings.ConnectionString);
        await PostgresOrleansSchema.ApplyAsync(settings.ConnectionString, cancellationToken);
        LogApplied(builder.Database ?? "(default)", builder.Host ?? "(default)");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Granary's Orleans schema is in place in database '{Database}' on {Host}.")]
    private partial void LogApplied(string database, string host);
}

/// <summary>The connection string the silo's schema initializer applies the schema to.</summary>
internal sealed record PostgresClusteringSettings(string ConnectionString);
