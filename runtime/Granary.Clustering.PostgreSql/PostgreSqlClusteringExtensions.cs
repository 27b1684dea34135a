using Granary.Runtime.Cluster.Hosting;
using Granary.Runtime.Cluster.Membership;
using Granary.Runtime.Cluster.Reminders;
using Granary.Runtime.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Granary.Clustering.PostgreSql;

/// <summary>PostgreSQL membership and reminders for a silo: <c>silo.UseCluster().UsePostgreSqlClustering(cs).UsePostgreSqlReminders(cs)</c>.</summary>
public static class PostgreSqlClusteringExtensions
{
    /// <summary>Keeps the membership table in PostgreSQL at <paramref name="connectionString"/> (tables created on start when absent).</summary>
    public static ISiloBuilder UsePostgreSqlClustering(this ISiloBuilder builder, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return builder.UseMembershipTable(sp => new PostgreSqlMembershipTable(
            DataSource(connectionString), sp.GetRequiredService<IOptions<Granary.Runtime.Cluster.ClusterOptions>>().Value.ClusterId));
    }

    /// <summary>Keeps reminders in PostgreSQL at <paramref name="connectionString"/>.</summary>
    public static ISiloBuilder UsePostgreSqlReminders(this ISiloBuilder builder, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return builder.UseReminderTable(sp => new PostgreSqlReminderTable(
            DataSource(connectionString), sp.GetRequiredService<IOptions<Granary.Runtime.Cluster.ClusterOptions>>().Value.ClusterId));
    }

    /// <summary>A membership table for clients (e.g. the gateway's <c>ClusterClient</c>).</summary>
    public static IMembershipTable CreateMembershipTable(string connectionString, string clusterId)
        => new PostgreSqlMembershipTable(DataSource(connectionString), clusterId);

    /// <summary>A reminder table outside a silo (tools, tests).</summary>
    public static IReminderTable CreateReminderTable(string connectionString, string clusterId)
        => new PostgreSqlReminderTable(DataSource(connectionString), clusterId);

    private static NpgsqlDataSource DataSource(string connectionString) => NpgsqlDataSource.Create(connectionString);
}
