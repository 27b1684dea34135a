namespace Granary.Repository;

/// <summary>
/// The repository <c>granary init</c> writes: drivers and customers, three feature views (one fed by a push source),
/// an on-demand view with a C# transform, and a feature service. Data files are written separately (they need the offline engine).
/// </summary>
public static class SampleRepository
{
    /// <summary>The driver statistics Parquet file, relative to the repository.</summary>
    public const string DriverStatsPath = "data/driver_stats.parquet";
    /// <summary>The customer profile Parquet file, relative to the repository.</summary>
    public const string CustomerProfilePath = "data/customer_profile.parquet";

    /// <summary>The driver ids the sample data covers.</summary>
    public static readonly long[] DriverIds = [1001, 1002, 1003, 1004, 1005];
    /// <summary>The customer ids the sample data covers.</summary>
    public static readonly long[] CustomerIds = [201, 202, 203, 204, 205];

    /// <summary>Writes granary.yaml, the definition files and the transform into <paramref name="directory"/> (created if needed).</summary>
    public static void WriteDefinitions(string directory, string project)
    {
        Directory.CreateDirectory(Path.Combine(directory, "data"));
        Directory.CreateDirectory(Path.Combine(directory, "features"));
        Directory.CreateDirectory(Path.Combine(directory, FeatureRepositoryLoader.TransformsFolder));
        File.WriteAllText(Path.Combine(directory, RepositoryConfig.FileName), ConfigYaml(project));
        File.WriteAllText(Path.Combine(directory, "features", "entities.yaml"), EntitiesYaml);
        File.WriteAllText(Path.Combine(directory, "features", "driver.yaml"), DriverYaml);
        File.WriteAllText(Path.Combine(directory, "features", "customer.yaml"), CustomerYaml);
        File.WriteAllText(Path.Combine(directory, "features", "services.yaml"), ServicesYaml);
        File.WriteAllText(Path.Combine(directory, FeatureRepositoryLoader.TransformsFolder, "conv_rate.cs"), TransformCode);
    }

    /// <summary>granary.yaml for <paramref name="project"/>: everything embedded (SQLite registry and online store, DuckDB offline).</summary>
    public static string ConfigYaml(string project) => $"""
        # Granary feature repository. Every other *.yaml file here holds definitions.
        project: {project}

        # Registry: a SQLite file (embedded default) or a shared PostgreSQL database:
        #   registry: {"{"} type: postgres, connection_string: "Host=...;Database=granary;Username=..." {"}"}
        registry:
          type: sqlite
          path: data/registry.db

        # Online store: SQLite (embedded default) or Redis:
        #   online_store: {"{"} type: redis, connection_string: "127.0.0.1:6379" {"}"}
        online_store:
          type: sqlite
          path: data/online.db

        # Offline store: DuckDB over the Parquet files (default) or PostgreSQL.
        offline_store:
          type: duckdb

        # Where 'granary serve' listens (flags --host/--rest-port/--grpc-port/--web-port override) and where
        # a bare --server connects. One host for all three; port 0 = any free port; web: off turns the UI port off.
        endpoints:
          rest: {EndpointsConfig.DefaultHost}:{EndpointsConfig.DefaultRestPort}     # Feast's REST API, /health
          grpc: {EndpointsConfig.DefaultHost}:{EndpointsConfig.DefaultGrpcPort}     # gRPC (HTTP/2 only); --server connects here
          web: {EndpointsConfig.DefaultHost}:{EndpointsConfig.DefaultWebPort}      # UI, dashboards, /metrics (browsers refuse {EndpointsConfig.DefaultRestPort})

        """;

    /// <summary>features/entities.yaml.</summary>
    public const string EntitiesYaml = """
        entities:
          - name: driver
            join_key: driver_id
            value_type: Int64
            description: A driver on the platform.
          - name: customer
            join_key: customer_id
            value_type: Int64
            description: A customer who books trips.

        """;

    /// <summary>features/driver.yaml.</summary>
    public const string DriverYaml = """
        sources:
          - name: driver_stats_source
            type: file
            path: data/driver_stats.parquet
            timestamp_field: event_timestamp
            created_timestamp_field: created
            description: Hourly driver statistics.
          - name: driver_stats_push
            type: push
            batch_source: driver_stats_source
            description: Fresh driver statistics pushed by the trip service.

        feature_views:
          - name: driver_hourly_stats
            entities: [driver]
            source: driver_stats_source
            ttl: 1d
            online: true
            owner: ml-platform@example.com
            freshness_sla: 2h
            schema:
              - name: conv_rate
                type: Float32
                description: Share of offers the driver accepted and completed.
              - name: acc_rate
                type: Float32
              - name: avg_daily_trips
                type: Int64
            tags:
              team: drivers
          - name: driver_stats_fresh
            entities: [driver]
            source: driver_stats_push
            ttl: 2h
            schema:
              - name: conv_rate
                type: Float32
              - name: acc_rate
                type: Float32

        """;

    /// <summary>features/customer.yaml.</summary>
    public const string CustomerYaml = """
        sources:
          - name: customer_profile_source
            type: file
            path: data/customer_profile.parquet
            timestamp_field: event_timestamp
          - name: trip_request
            type: request
            schema:
              - name: val_to_add
                type: Int64
              - name: val_to_add_2
                type: Int64

        feature_views:
          - name: customer_profile
            entities: [customer]
            source: customer_profile_source
            ttl: 30d
            schema:
              - name: current_balance
                type: Float32
              - name: avg_passenger_count
                type: Float32
              - name: lifetime_trip_count
                type: Int64

        on_demand_feature_views:
          - name: transformed_conv_rate
            sources: [driver_hourly_stats, trip_request]
            transform: ConvRateTransform
            schema:
              - name: conv_rate_plus_val1
                type: Float64
              - name: conv_rate_plus_val2
                type: Float64

        """;

    /// <summary>features/services.yaml.</summary>
    public const string ServicesYaml = """
        feature_services:
          - name: driver_activity_v1
            description: Features of the trip-completion model.
            features:
              - view: driver_hourly_stats
                features: [conv_rate, acc_rate]
              - customer_profile
              - transformed_conv_rate

        """;

    /// <summary>transforms/conv_rate.cs.</summary>
    public const string TransformCode = """
        using Granary.Definitions;

        namespace Sample.Transforms;

        /// <summary>Adds the request's values to the driver's conversion rate.</summary>
        public sealed class ConvRateTransform : IOnDemandTransform
        {
            public void Transform(TransformRow row)
            {
                var convRate = row.GetDouble("conv_rate");
                row["conv_rate_plus_val1"] = convRate + row.GetInt64("val_to_add");
                row["conv_rate_plus_val2"] = convRate + row.GetInt64("val_to_add_2");
            }
        }

        """;
}
