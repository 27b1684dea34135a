using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Hosting;
using Orleans.Runtime;

namespace Granary.Clustering.PostgreSql;

/// <summary>Hosting extensions: Orleans membership and reminders in PostgreSQL on Granary's schema.</summary>
public static class PostgresClusteringExtensions
{
    /// <summary>
    /// Keeps this silo's membership and reminders in PostgreSQL through Orleans' ADO.NET providers. The schema is
    /// applied (idempotently) when the silo starts, before membership starts.
    /// </summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="connectionString">Npgsql connection string of the database holding the tables.</param>
    public static ISiloBuilder UseGranaryPostgresClustering(this ISiloBuilder builder, string connectionString)
    {
        PostgresOrleansSchema.ParseConnectionString(connectionString);
        builder.Services.AddSingleton(new PostgresClusteringSettings(connectionString));
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, PostgresSchemaInitializer>();
        builder.UseAdoNetClustering(o =>
        {
            o.Invariant = PostgresOrleansSchema.Invariant;
            o.ConnectionString = connectionString;
        });
        builder.UseAdoNetReminderService(o =>
        {
            o.Invariant = PostgresOrleansSchema.Invariant;
            o.ConnectionString = connectionString;
        });
        return builder;
    }

    /// <summary>
    /// Lets a client find the cluster's gateways in the PostgreSQL membership table. The silos apply the schema; a
    /// client only reads it.
    /// </summary>
    /// <param name="builder">The client builder.</param>
    /// <param name="connectionString">Npgsql connection string of the database the silos use.</param>
    public static IClientBuilder UseGranaryPostgresClustering(this IClientBuilder builder, string connectionString)
    {
        PostgresOrleansSchema.ParseConnectionString(connectionString);
        builder.UseAdoNetClustering(o =>
        {
            o.Invariant = PostgresOrleansSchema.Invariant;
            o.ConnectionString = connectionString;
        });
        return builder;
    }
}
