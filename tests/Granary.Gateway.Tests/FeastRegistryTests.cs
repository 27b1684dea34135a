using System.Globalization;
using System.Text.Json;
using Feast.Registry;
using Google.Protobuf.WellKnownTypes;
using Granary.Repository;
using Granary.Testing;
using Grpc.Core;
using Grpc.Net.Client;
using YamlDotNet.RepresentationModel;
using FeastDataSource = Feast.Core.DataSource;
using FeastValueType = Feast.Types.ValueType.Types.Enum;

namespace Granary.Gateway.Tests;

/// <summary>
/// A feature repository in YAML (the sample <c>granary init</c> writes, plus a file with a PostgreSQL source, tags, an
/// aliased projection with a join-key map), applied to a real embedded silo, served by the gateway.
/// </summary>
public sealed class FeastRegistryServer : EmbeddedServerFixture
{
    public FeastRegistryServer() : base("fr", "granary-feast-registry-")
    {
    }

    /// <summary>features/extra.yaml: what the sample lacks (tags, a PostgreSQL source with a field mapping, an alias and a join-key map).</summary>
    public const string ExtraYaml = """
        entities:
          - name: location
            join_key: location_id
            value_type: String
            description: A pickup or drop-off place.
            tags:
              domain: geo
        sources:
          - name: trips_pg
            type: postgres
            table: public.trips
            timestamp_field: ts
            created_timestamp_field: loaded_at
            field_mapping:
              loc: location_id
            description: Trips in the warehouse.
            tags:
              store: warehouse
        feature_views:
          - name: location_stats
            entities: [location]
            source: trips_pg
            ttl: 3h
            online: false
            description: Trip counts per place.
            schema:
              - name: trip_count
                type: Int64
                description: Trips that started here.
              - name: top_destinations
                type: Array(String)
        feature_services:
          - name: route_model
            description: Features of the routing model.
            tags:
              team: routing
            features:
              - view: location_stats
                alias: origin
                join_key_map:
                  location_id: origin_id
                features: [trip_count]

        """;

    public GrpcChannel Channel { get; private set; } = null!;

    public RegistryServer.RegistryServerClient Client { get; private set; } = null!;

    /// <summary>The folder of the definition files.</summary>
    public string FeaturesDirectory => Path.Combine(RepositoryRoot, "features");

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Channel = GrpcChannel.ForAddress(Gateway.GrpcUrl);
        Client = new RegistryServer.RegistryServerClient(Channel);
    }

    protected override void WriteData(TestRepository repository)
    {
        Directory.CreateDirectory(FeaturesDirectory);
        Directory.CreateDirectory(Path.Combine(RepositoryRoot, FeatureRepositoryLoader.TransformsFolder));
        File.WriteAllText(Path.Combine(FeaturesDirectory, "entities.yaml"), SampleRepository.EntitiesYaml);
        File.WriteAllText(Path.Combine(FeaturesDirectory, "driver.yaml"), SampleRepository.DriverYaml);
        File.WriteAllText(Path.Combine(FeaturesDirectory, "customer.yaml"), SampleRepository.CustomerYaml);
        File.WriteAllText(Path.Combine(FeaturesDirectory, "services.yaml"), SampleRepository.ServicesYaml);
        File.WriteAllText(Path.Combine(FeaturesDirectory, "extra.yaml"), ExtraYaml);
        File.WriteAllText(Path.Combine(RepositoryRoot, FeatureRepositoryLoader.TransformsFolder, "conv_rate.cs"), SampleRepository.TransformCode);
    }

    protected override Task SetUpProjectAsync() => ApplyAsync(FeatureRepositoryLoader.Load(RepositoryRoot).ToSnapshot());

    /// <summary>Applies the repository again with one more tag on the entity <c>driver</c>, as a new registry version.</summary>
    public async Task ApplyWithDriverTagAsync(string key, string value)
    {
        var snapshot = FeatureRepositoryLoader.Load(RepositoryRoot).ToSnapshot();
        var entities = snapshot.Entities.Select(e => e.Name == "driver"
            ? e with { Tags = new Dictionary<string, string>(e.Tags) { [key] = value } } : e).ToList();
        await ApplyAsync(snapshot with { Entities = entities }, expectedVersion: 1);
    }

    protected override void ConfigureGateway(GatewayOptions o)
    {
        o.RestPort = 0;
        o.GrpcPort = 0;
        o.WebPort = 0;
    }

    public override async Task DisposeAsync()
    {
        Channel?.Dispose();
        await base.DisposeAsync();
    }
}

/// <summary>
/// Feast's registry API (<c>feast.registry.RegistryServer</c>) as a Feast SDK with a remote registry calls it, checked field
/// by field against the repository's YAML, read here independently of Granary's loader (YamlDotNet's document model).
/// </summary>
/// <remarks>
/// The client is built from Granary's .proto files, which carry Feast's names and numbers. Each message was checked against
/// Feast v0.66.0, feast-dev/feast commit f0bc0700be7029166e6605e407de6d229cd1e93e:
/// protos/feast/registry/RegistryServer.proto (service and requests), protos/feast/core/Entity.proto, DataSource.proto,
/// DataFormat.proto, Feature.proto, FeatureView.proto, FeatureViewProjection.proto, OnDemandFeatureView.proto,
/// StreamFeatureView.proto, FeatureService.proto, Transformation.proto, Permission.proto, Policy.proto, Project.proto,
/// Registry.proto. What Feast's SDK expects inside the messages comes from sdk/python/feast/data_source.py
/// (PushSource._to_proto_impl copies the batch source's time columns), feast/feature_view.py (a push source is the stream
/// source, its batch source the batch source), feast/infra/offline_stores/contrib/postgres_offline_store/postgres_source.py
/// (CUSTOM_SOURCE with JSON {"name","query","table"}), feast/transformation/udf_rehydrate.py (the function's source is
/// executed by the SDK and must define a callable) and feast/infra/registry/remote.py (the methods called).
/// </remarks>
public sealed class FeastRegistryTests(FeastRegistryServer server) : IClassFixture<FeastRegistryServer>
{
    private static CallOptions Deadline => new(deadline: DateTime.UtcNow.AddSeconds(30));

    private RegistryServer.RegistryServerClient Client => server.Client;

    // ---- the repository's YAML, read without Granary ----

    private List<YamlMappingNode> Yaml(string section)
    {
        var items = new List<YamlMappingNode>();
        foreach (var file in Directory.EnumerateFiles(server.FeaturesDirectory, "*.yaml").Order(StringComparer.Ordinal))
        {
            var stream = new YamlStream();
            using (var reader = new StringReader(File.ReadAllText(file))) stream.Load(reader);
            var root = (YamlMappingNode)stream.Documents[0].RootNode;
            if (root.Children.TryGetValue(new YamlScalarNode(section), out var list))
                items.AddRange(((YamlSequenceNode)list).Children.Cast<YamlMappingNode>());
        }
        return items;
    }

    private static string? Text(YamlMappingNode node, string key)
        => node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? ((YamlScalarNode)value).Value : null;

    private static Dictionary<string, string> Map(YamlMappingNode node, string key)
        => node.Children.TryGetValue(new YamlScalarNode(key), out var value)
            ? ((YamlMappingNode)value).Children.ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => ((YamlScalarNode)p.Value).Value!)
            : [];

    private static List<YamlNode> Items(YamlMappingNode node, string key)
        => node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? [.. ((YamlSequenceNode)value).Children] : [];

    private static List<string> Strings(YamlMappingNode node, string key) => Items(node, key).Select(n => ((YamlScalarNode)n).Value!).ToList();

    /// <summary>Feast's ValueType for a YAML type name (Feast: protos/feast/types/Value.proto, ValueType.Enum).</summary>
    private static FeastValueType FeastType(string yaml) => yaml switch
    {
        "Int32" => FeastValueType.Int32,
        "Int64" => FeastValueType.Int64,
        "Float32" => FeastValueType.Float,
        "Float64" => FeastValueType.Double,
        "String" => FeastValueType.String,
        "Bool" => FeastValueType.Bool,
        "Bytes" => FeastValueType.Bytes,
        "UnixTimestamp" => FeastValueType.UnixTimestamp,
        "Array(Int64)" => FeastValueType.Int64List,
        "Array(String)" => FeastValueType.StringList,
        "Array(Float32)" => FeastValueType.FloatList,
        "Array(Float64)" => FeastValueType.DoubleList,
        _ => throw new ArgumentException($"the test has no Feast type for '{yaml}'"),
    };

    /// <summary>A YAML duration (<c>3h</c>, <c>30d</c>) as a protobuf Duration.</summary>
    private static Duration FeastDuration(string yaml)
    {
        var amount = long.Parse(yaml[..^1], CultureInfo.InvariantCulture);
        var seconds = yaml[^1] switch { 's' => amount, 'm' => amount * 60, 'h' => amount * 3600, 'd' => amount * 86400, _ => throw new ArgumentException(yaml) };
        return new Duration { Seconds = seconds };
    }

    private static void AssertSchema(IEnumerable<YamlNode> yaml, IEnumerable<Feast.Core.FeatureSpecV2> served)
    {
        var expected = yaml.Cast<YamlMappingNode>().Select(f => (Text(f, "name"), FeastType(Text(f, "type")!), Text(f, "description") ?? "")).ToList();
        Assert.Equal(expected, served.Select(f => ((string?)f.Name, f.ValueType, f.Description)).ToList());
    }

    private YamlMappingNode YamlNamed(string section, string name) => Yaml(section).Single(n => Text(n, "name") == name);

    // ---- every kind, listed and got, field by field ----

    [Fact]
    public async Task Entities_carry_join_key_value_type_description_and_tags()
    {
        var listed = (await Client.ListEntitiesAsync(new ListEntitiesRequest { Project = server.Project }, Deadline)).Entities;
        var yaml = Yaml("entities");
        Assert.Equal(yaml.Select(e => Text(e, "name")).Order(), listed.Select(e => e.Spec.Name).Order());
        foreach (var node in yaml)
        {
            var name = Text(node, "name")!;
            var spec = listed.Single(e => e.Spec.Name == name).Spec;
            Assert.Equal((server.Project, Text(node, "join_key"), FeastType(Text(node, "value_type")!), Text(node, "description") ?? ""),
                (spec.Project, (string?)spec.JoinKey, spec.ValueType, spec.Description));
            Assert.Equal(Map(node, "tags"), spec.Tags.ToDictionary());
            Assert.Equal(listed.Single(e => e.Spec.Name == name),
                await Client.GetEntityAsync(new GetEntityRequest { Name = name, Project = server.Project }, Deadline));
        }
    }

    [Fact]
    public async Task Data_sources_carry_their_kind_options_and_timestamp_fields()
    {
        var listed = (await Client.ListDataSourcesAsync(new ListDataSourcesRequest { Project = server.Project }, Deadline)).DataSources;
        var yaml = Yaml("sources");
        Assert.Equal(yaml.Select(s => Text(s, "name")).Order(), listed.Select(s => s.Name).Order());
        foreach (var node in yaml)
        {
            var name = Text(node, "name")!;
            var source = listed.Single(s => s.Name == name);
            Assert.Equal(source, await Client.GetDataSourceAsync(new GetDataSourceRequest { Name = name, Project = server.Project }, Deadline));
            Assert.Equal((server.Project, Text(node, "description") ?? ""), (source.Project, source.Description));
            Assert.Equal(Map(node, "tags"), source.Tags.ToDictionary());
            switch (Text(node, "type"))
            {
                case "file":
                    Assert.Equal(FeastDataSource.Types.SourceType.BatchFile, source.Type);
                    Assert.Equal(Text(node, "path"), source.FileOptions.Uri);
                    Assert.NotNull(source.FileOptions.FileFormat.ParquetFormat);
                    AssertTimestamps(node, source);
                    break;
                case "postgres":
                    Assert.Equal(FeastDataSource.Types.SourceType.CustomSource, source.Type);
                    Assert.Equal("feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source.PostgreSQLSource", source.DataSourceClassType);
                    using (var options = JsonDocument.Parse(source.CustomOptions.Configuration.Memory))
                    {
                        Assert.Equal(name, options.RootElement.GetProperty("name").GetString());
                        Assert.Equal(Text(node, "table"), options.RootElement.GetProperty("table").GetString());
                        Assert.Equal(Text(node, "query"), options.RootElement.GetProperty("query").GetString());
                    }
                    AssertTimestamps(node, source);
                    break;
                case "push":
                    // Feast's push source carries its batch source, and its batch source's time columns.
                    Assert.Equal(FeastDataSource.Types.SourceType.PushSource, source.Type);
                    Assert.NotNull(source.PushOptions);
                    var batch = YamlNamed("sources", Text(node, "batch_source")!);
                    Assert.Equal(listed.Single(s => s.Name == Text(node, "batch_source")), source.BatchSource);
                    AssertTimestamps(batch, source);
                    break;
                case "request":
                    Assert.Equal(FeastDataSource.Types.SourceType.RequestSource, source.Type);
                    AssertSchema(Items(node, "schema"), source.RequestDataOptions.Schema);
                    break;
                default:
                    Assert.Fail($"the test has no check for source type '{Text(node, "type")}'");
                    break;
            }
        }
    }

    private static void AssertTimestamps(YamlMappingNode node, FeastDataSource source)
    {
        Assert.Equal((Text(node, "timestamp_field") ?? "", Text(node, "created_timestamp_field") ?? ""), (source.TimestampField, source.CreatedTimestampColumn));
        Assert.Equal(Map(node, "field_mapping"), source.FieldMapping.ToDictionary());
    }

    [Fact]
    public async Task Feature_views_carry_entities_schema_ttl_owner_tags_and_sources()
    {
        var listed = (await Client.ListFeatureViewsAsync(new ListFeatureViewsRequest { Project = server.Project }, Deadline)).FeatureViews;
        var yaml = Yaml("feature_views");
        Assert.Equal(yaml.Select(v => Text(v, "name")).Order(), listed.Select(v => v.Spec.Name).Order());
        foreach (var node in yaml)
        {
            var name = Text(node, "name")!;
            var view = listed.Single(v => v.Spec.Name == name);
            Assert.Equal(view, await Client.GetFeatureViewAsync(new GetFeatureViewRequest { Name = name, Project = server.Project }, Deadline));
            var spec = view.Spec;
            Assert.Equal((server.Project, Text(node, "description") ?? "", Text(node, "owner") ?? "", Text(node, "online") != "false"),
                (spec.Project, spec.Description, spec.Owner, spec.Online));
            Assert.Equal(FeastDuration(Text(node, "ttl")!), spec.Ttl);
            Assert.Equal(Map(node, "tags"), spec.Tags.ToDictionary());
            Assert.Equal(Strings(node, "entities"), spec.Entities);
            AssertSchema(Items(node, "schema"), spec.Features);
            // Feast's entity columns: each entity's join key with its type.
            var entities = Strings(node, "entities").Select(e => YamlNamed("entities", e)).ToList();
            Assert.Equal(entities.Select(e => (Text(e, "join_key"), FeastType(Text(e, "value_type")!))).ToList(),
                spec.EntityColumns.Select(c => ((string?)c.Name, c.ValueType)).ToList());
            var source = YamlNamed("sources", Text(node, "source")!);
            if (Text(source, "type") == "push")
                Assert.Equal((Text(source, "name"), Text(source, "batch_source")), ((string?)spec.StreamSource.Name, (string?)spec.BatchSource.Name));
            else
                Assert.Equal((Text(source, "name"), (FeastDataSource?)null), ((string?)spec.BatchSource.Name, spec.StreamSource));
        }
    }

    [Fact]
    public async Task On_demand_views_carry_schema_and_sources_and_say_their_transform_runs_on_the_server()
    {
        var listed = (await Client.ListOnDemandFeatureViewsAsync(new ListOnDemandFeatureViewsRequest { Project = server.Project }, Deadline)).OnDemandFeatureViews;
        var yaml = Yaml("on_demand_feature_views");
        Assert.Equal(yaml.Select(v => Text(v, "name")).Order(), listed.Select(v => v.Spec.Name).Order());
        foreach (var node in yaml)
        {
            var name = Text(node, "name")!;
            var view = listed.Single(v => v.Spec.Name == name);
            Assert.Equal(view, await Client.GetOnDemandFeatureViewAsync(new GetOnDemandFeatureViewRequest { Name = name, Project = server.Project }, Deadline));
            var spec = view.Spec;
            AssertSchema(Items(node, "schema"), spec.Features);
            Assert.Equal(Strings(node, "sources").Order(), spec.Sources.Keys.Order());
            foreach (var sourceName in Strings(node, "sources"))
            {
                var input = Yaml("feature_views").SingleOrDefault(v => Text(v, "name") == sourceName);
                if (input is not null)
                {
                    Assert.Equal(sourceName, spec.Sources[sourceName].FeatureViewProjection.FeatureViewName);
                    AssertSchema(Items(input, "schema"), spec.Sources[sourceName].FeatureViewProjection.FeatureColumns);
                }
                else
                {
                    var request = YamlNamed("sources", sourceName);
                    Assert.Equal(FeastDataSource.Types.SourceType.RequestSource, spec.Sources[sourceName].RequestDataSource.Type);
                    AssertSchema(Items(request, "schema"), spec.Sources[sourceName].RequestDataSource.RequestDataOptions.Schema);
                }
            }
            var transform = Text(node, "transform")!;
            Assert.Contains($"C# transform '{transform}'", spec.Description);
            // Feast's SDK executes the function's source and needs a callable of this name (udf_rehydrate.py).
            var function = spec.FeatureTransformation.UserDefinedFunction;
            Assert.Equal(("python", transform, "python"), (spec.Mode, function.Name, function.Mode));
            Assert.StartsWith($"def {transform}(", function.BodyText);
            Assert.Contains("raise RuntimeError(", function.BodyText);
        }
    }

    [Fact]
    public async Task Feature_services_carry_their_projections_with_alias_join_key_map_and_selected_features()
    {
        var listed = (await Client.ListFeatureServicesAsync(new ListFeatureServicesRequest { Project = server.Project }, Deadline)).FeatureServices;
        var yaml = Yaml("feature_services");
        Assert.Equal(yaml.Select(s => Text(s, "name")).Order(), listed.Select(s => s.Spec.Name).Order());
        var views = Yaml("feature_views").Concat(Yaml("on_demand_feature_views")).ToDictionary(v => Text(v, "name")!);
        foreach (var node in yaml)
        {
            var name = Text(node, "name")!;
            var service = listed.Single(s => s.Spec.Name == name);
            Assert.Equal(service, await Client.GetFeatureServiceAsync(new GetFeatureServiceRequest { Name = name, Project = server.Project }, Deadline));
            Assert.Equal((server.Project, Text(node, "description") ?? ""), (service.Spec.Project, service.Spec.Description));
            Assert.Equal(Map(node, "tags"), service.Spec.Tags.ToDictionary());
            var projections = Items(node, "features");
            Assert.Equal(projections.Count, service.Spec.Features.Count);
            for (var i = 0; i < projections.Count; i++)
            {
                var served = service.Spec.Features[i];
                if (projections[i] is YamlScalarNode whole)
                {
                    // A bare view name selects every feature of the view.
                    Assert.Equal((whole.Value, "", 0), ((string?)served.FeatureViewName, served.FeatureViewNameAlias, served.JoinKeyMap.Count));
                    AssertSchema(Items(views[whole.Value!], "schema"), served.FeatureColumns);
                    continue;
                }
                var projection = (YamlMappingNode)projections[i];
                var view = Text(projection, "view")!;
                Assert.Equal((view, Text(projection, "alias") ?? ""), (served.FeatureViewName, served.FeatureViewNameAlias));
                Assert.Equal(Map(projection, "join_key_map"), served.JoinKeyMap.ToDictionary());
                var selected = Strings(projection, "features");
                var schema = Items(views[view], "schema").Cast<YamlMappingNode>();
                AssertSchema(selected.Select(f => schema.Single(s => Text(s, "name") == f)), served.FeatureColumns);
            }
        }
    }

    [Fact]
    public async Task Any_feature_view_covers_every_kind_and_filters_like_feast()
    {
        var all = (await Client.ListAllFeatureViewsAsync(new ListAllFeatureViewsRequest { Project = server.Project }, Deadline)).FeatureViews;
        Assert.Equal(Yaml("feature_views").Concat(Yaml("on_demand_feature_views")).Select(v => Text(v, "name")).Order(),
            all.Select(v => v.FeatureView?.Spec.Name ?? v.OnDemandFeatureView.Spec.Name).Order());
        var onDemand = await Client.GetAnyFeatureViewAsync(new GetAnyFeatureViewRequest { Name = "transformed_conv_rate", Project = server.Project }, Deadline);
        Assert.Equal(AnyFeatureView.AnyFeatureViewOneofCase.OnDemandFeatureView, onDemand.AnyFeatureView.AnyFeatureViewCase);
        var plain = await Client.GetAnyFeatureViewAsync(new GetAnyFeatureViewRequest { Name = "customer_profile", Project = server.Project }, Deadline);
        Assert.Equal(AnyFeatureView.AnyFeatureViewOneofCase.FeatureView, plain.AnyFeatureView.AnyFeatureViewCase);

        var byEntity = await Client.ListAllFeatureViewsAsync(new ListAllFeatureViewsRequest { Project = server.Project, Entity = "driver" }, Deadline);
        Assert.Equal(["driver_hourly_stats", "driver_stats_fresh"], byEntity.FeatureViews.Select(v => v.FeatureView.Spec.Name).Order());
        var byService = await Client.ListAllFeatureViewsAsync(new ListAllFeatureViewsRequest { Project = server.Project, FeatureService = "driver_activity_v1" }, Deadline);
        Assert.Equal(["customer_profile", "driver_hourly_stats", "transformed_conv_rate"],
            byService.FeatureViews.Select(v => v.FeatureView?.Spec.Name ?? v.OnDemandFeatureView.Spec.Name).Order());
        var byTag = await Client.ListFeatureViewsAsync(new ListFeatureViewsRequest { Project = server.Project, Tags = { ["team"] = "drivers" } }, Deadline);
        Assert.Equal(["driver_hourly_stats"], byTag.FeatureViews.Select(v => v.Spec.Name));
        Assert.Empty((await Client.ListStreamFeatureViewsAsync(new ListStreamFeatureViewsRequest { Project = server.Project }, Deadline)).StreamFeatureViews);
    }

    [Fact]
    public async Task Proto_is_the_whole_registry_the_lists_answer()
    {
        var registry = await Client.ProtoAsync(new Empty(), Deadline);
        var request = server.Project;
        Assert.Equal((await Client.ListEntitiesAsync(new ListEntitiesRequest { Project = request }, Deadline)).Entities, registry.Entities);
        Assert.Equal((await Client.ListDataSourcesAsync(new ListDataSourcesRequest { Project = request }, Deadline)).DataSources, registry.DataSources);
        Assert.Equal((await Client.ListFeatureViewsAsync(new ListFeatureViewsRequest { Project = request }, Deadline)).FeatureViews, registry.FeatureViews);
        Assert.Equal((await Client.ListOnDemandFeatureViewsAsync(new ListOnDemandFeatureViewsRequest { Project = request }, Deadline)).OnDemandFeatureViews, registry.OnDemandFeatureViews);
        Assert.Equal((await Client.ListFeatureServicesAsync(new ListFeatureServicesRequest { Project = request }, Deadline)).FeatureServices, registry.FeatureServices);
        Assert.Equal([server.Project], registry.Projects.Select(p => p.Spec.Name));
        Assert.Empty(registry.Permissions);
        Assert.True(long.Parse(registry.VersionId, CultureInfo.InvariantCulture) >= 1);
    }

    [Fact]
    public async Task Projects_metadata_permissions_and_refresh_answer_as_feast_does()
    {
        var projects = await Client.ListProjectsAsync(new ListProjectsRequest(), Deadline);
        Assert.Equal([server.Project], projects.Projects.Select(p => p.Spec.Name));
        Assert.Equal(projects.Projects[0], await Client.GetProjectAsync(new GetProjectRequest { Name = server.Project }, Deadline));
        var metadata = await Client.ListProjectMetadataAsync(new ListProjectMetadataRequest { Project = server.Project }, Deadline);
        Assert.Equal(server.Project, Assert.Single(metadata.ProjectMetadata).Project);
        Assert.True(Guid.TryParse(metadata.ProjectMetadata[0].ProjectUuid, out _));
        Assert.Empty((await Client.ListPermissionsAsync(new ListPermissionsRequest { Project = server.Project }, Deadline)).Permissions);
        Assert.Empty((await Client.ListSavedDatasetsAsync(new ListSavedDatasetsRequest { Project = server.Project }, Deadline)).SavedDatasets);
        Assert.Empty((await Client.ListValidationReferencesAsync(new ListValidationReferencesRequest { Project = server.Project }, Deadline)).ValidationReferences);
        await Client.RefreshAsync(new RefreshRequest { Project = server.Project }, Deadline);
        var features = await Client.ListFeaturesAsync(new ListFeaturesRequest { Project = server.Project, FeatureView = "location_stats" }, Deadline);
        Assert.Equal(["trip_count", "top_destinations"], features.Features.Select(f => f.Name));
    }

    // ---- errors ----

    [Fact]
    public async Task Writes_answer_unimplemented_naming_granary_apply()
    {
        var calls = new Func<Task>[]
        {
            async () => await Client.ApplyEntityAsync(new ApplyEntityRequest { Project = server.Project }, Deadline),
            async () => await Client.DeleteFeatureViewAsync(new DeleteFeatureViewRequest { Name = "customer_profile", Project = server.Project }, Deadline),
            async () => await Client.ApplyFeatureServiceAsync(new ApplyFeatureServiceRequest { Project = server.Project }, Deadline),
            async () => await Client.ApplyMaterializationAsync(new ApplyMaterializationRequest { Project = server.Project }, Deadline),
            async () => await Client.CommitAsync(new Empty(), Deadline),
        };
        foreach (var call in calls)
        {
            var e = await Assert.ThrowsAsync<RpcException>(call);
            Assert.Equal(StatusCode.Unimplemented, e.StatusCode);
            Assert.Contains("granary apply", e.Status.Detail);
        }
        // Nothing changed.
        Assert.Contains("customer_profile", (await Client.ListFeatureViewsAsync(new ListFeatureViewsRequest { Project = server.Project }, Deadline)).FeatureViews.Select(v => v.Spec.Name));
    }

    [Fact]
    public async Task Unknown_names_and_other_projects_answer_not_found_naming_what_is_known()
    {
        var missing = await Assert.ThrowsAsync<RpcException>(async () =>
            await Client.GetFeatureViewAsync(new GetFeatureViewRequest { Name = "nope", Project = server.Project }, Deadline));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        Assert.Contains("'nope'", missing.Status.Detail);
        Assert.Contains("customer_profile", missing.Status.Detail);

        var other = await Assert.ThrowsAsync<RpcException>(async () =>
            await Client.ListEntitiesAsync(new ListEntitiesRequest { Project = "someone_else" }, Deadline));
        Assert.Equal(StatusCode.NotFound, other.StatusCode);
        Assert.Contains($"serves project '{server.Project}'", other.Status.Detail);
    }
}

/// <summary>The registry API answers the current version: a new apply is what the next read sees.</summary>
public sealed class FeastRegistryVersionTests(FeastRegistryServer server) : IClassFixture<FeastRegistryServer>
{
    [Fact]
    public async Task A_new_apply_is_what_the_next_reads_answer()
    {
        var before = await server.Client.ProtoAsync(new Empty(), new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)));
        await server.ApplyWithDriverTagAsync("tier", "gold");
        Feast.Core.Entity? entity = null;
        await Eventually.WaitUntil(async () =>
        {
            entity = await server.Client.GetEntityAsync(new GetEntityRequest { Name = "driver", Project = server.Project }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)));
            return entity.Spec.Tags.TryGetValue("tier", out var tier) && tier == "gold";
        }, TimeSpan.FromSeconds(30), "the registry API answers the new version's entity");
        var after = await server.Client.ProtoAsync(new Empty(), new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)));
        Assert.Equal(long.Parse(before.VersionId, CultureInfo.InvariantCulture) + 1, long.Parse(after.VersionId, CultureInfo.InvariantCulture));
        Assert.Equal(entity, after.Entities.Single(e => e.Spec.Name == "driver"));
        Assert.True(after.LastUpdated.ToDateTimeOffset() >= before.LastUpdated.ToDateTimeOffset());
    }
}
