using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Feast.Core;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Google.Protobuf.WellKnownTypes;
using Granary.Contracts;
using Granary.Definitions;
using DataSource = Granary.Definitions.DataSource;
using Entity = Granary.Definitions.Entity;
using Field = Granary.Definitions.Field;
using FeatureService = Granary.Definitions.FeatureService;
using FeatureView = Granary.Definitions.FeatureView;
using FeatureViewProjection = Granary.Definitions.FeatureViewProjection;
using OnDemandFeatureView = Granary.Definitions.OnDemandFeatureView;
using Permission = Granary.Definitions.Permission;

namespace Granary.Gateway.Grpc;

/// <summary>
/// Granary's registry as Feast's registry messages (<c>feast.core.*</c>, Feast v0.66.0): one snapshot maps once to a
/// <see cref="FeastRegistry"/>, kept beside the snapshot, from which every registry read answers.
/// </summary>
/// <remarks>
/// The messages follow what Feast's own <c>to_proto</c> writes for the same objects (feast-dev/feast,
/// <c>sdk/python/feast/{entity,feature_view,on_demand_feature_view,feature_service,data_source}.py</c>), so a Feast SDK's
/// <c>from_proto</c> rebuilds the objects.
/// </remarks>
public static class FeastRegistryMapper
{
    /// <summary>Feast's class of a PostgreSQL source, which Feast carries as a custom source with JSON options.</summary>
    public const string PostgresSourceClass = "feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source.PostgreSQLSource";

    /// <summary>The registry schema version Feast writes.</summary>
    public const string RegistrySchemaVersion = "1";

    private static readonly ConditionalWeakTable<RegistrySnapshot, FeastRegistry> Mapped = new();

    // A JSON string is a valid Python string literal; relaxed escaping keeps quotes in names readable (no \u0027).
    private static readonly JsonSerializerOptions PythonString = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The Feast registry of <paramref name="snapshot"/>, mapped on first use and shared by every later read of the same version.</summary>
    public static FeastRegistry Get(RegistrySnapshot snapshot) => Mapped.GetValue(snapshot, static s => new FeastRegistry(s, Map(s)));

    /// <summary>The whole registry of <paramref name="snapshot"/> as Feast's <c>feast.core.Registry</c>.</summary>
    public static Feast.Core.Registry Map(RegistrySnapshot snapshot)
    {
        var updated = Timestamp.FromDateTimeOffset(snapshot.CreatedAt);
        var registry = new Feast.Core.Registry
        {
            RegistrySchemaVersion = RegistrySchemaVersion,
            VersionId = snapshot.Version.ToString(System.Globalization.CultureInfo.InvariantCulture),
            LastUpdated = updated,
            Infra = new Infra(),
        };
        foreach (var entity in snapshot.Entities) registry.Entities.Add(Entity(snapshot, entity, updated));
        foreach (var source in snapshot.DataSources) registry.DataSources.Add(Source(snapshot, source, updated));
        foreach (var view in snapshot.FeatureViews) registry.FeatureViews.Add(View(snapshot, view, updated));
        foreach (var view in snapshot.OnDemandFeatureViews) registry.OnDemandFeatureViews.Add(OnDemandView(snapshot, view, updated));
        foreach (var service in snapshot.FeatureServices) registry.FeatureServices.Add(Service(snapshot, service, updated));
        foreach (var permission in snapshot.Permissions)
            if (Permission(snapshot, permission, updated) is { } mapped) registry.Permissions.Add(mapped);
#pragma warning disable CS0612 // Feast still fills the deprecated project_metadata; its SDK reads it for list_project_metadata
        registry.ProjectMetadata.Add(ProjectMetadata(snapshot.Project));
#pragma warning restore CS0612
        registry.Projects.Add(Project(snapshot, updated));
        return registry;
    }

    /// <summary>The project as Feast's <c>Project</c>.</summary>
    public static Project Project(RegistrySnapshot snapshot, Timestamp updated) => new()
    {
        Spec = new ProjectSpec { Name = snapshot.Project },
        Meta = new ProjectMeta { LastUpdatedTimestamp = updated },
    };

    /// <summary>The project's metadata: its name and a UUID derived from the name (Granary keeps no other project id).</summary>
    public static ProjectMetadata ProjectMetadata(string project) => new() { Project = project, ProjectUuid = ProjectUuid(project) };

    /// <summary>A stable UUID for <paramref name="project"/>: the same on every gateway and after every restart.</summary>
    public static string ProjectUuid(string project)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes("granary-project:" + project), hash);
        var bytes = hash[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80); // version 8 (custom), RFC 9562
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC variant
        return new Guid(bytes, bigEndian: true).ToString();
    }

    /// <summary>An entity as Feast's <c>Entity</c>.</summary>
    public static Feast.Core.Entity Entity(RegistrySnapshot snapshot, Entity entity, Timestamp updated)
    {
        var spec = new EntitySpecV2
        {
            Name = entity.Name,
            Project = snapshot.Project,
            ValueType = FeastValues.TypeEnum(entity.ValueType),
            JoinKey = entity.JoinKey,
            Description = entity.Description ?? "",
        };
        AddAll(spec.Tags, entity.Tags);
        return new Feast.Core.Entity { Spec = spec, Meta = new EntityMeta { LastUpdatedTimestamp = updated } };
    }

    /// <summary>A data source as Feast's <c>DataSource</c>; a push source carries its batch source, as Feast's does.</summary>
    public static Feast.Core.DataSource Source(RegistrySnapshot snapshot, DataSource source, Timestamp updated)
    {
        var message = new Feast.Core.DataSource
        {
            Name = source.Name,
            Project = snapshot.Project,
            Description = source.Description ?? "",
            TimestampField = source.TimestampField,
            CreatedTimestampColumn = source.CreatedTimestampField ?? "",
            Meta = new Feast.Core.DataSource.Types.SourceMeta { LastUpdatedTimestamp = updated },
        };
        AddAll(message.Tags, source.Tags);
        AddAll(message.FieldMapping, source.FieldMapping);
        switch (source)
        {
            case FileSource file:
                message.Type = Feast.Core.DataSource.Types.SourceType.BatchFile;
                message.FileOptions = new Feast.Core.DataSource.Types.FileOptions
                {
                    Uri = file.Path,
                    FileFormat = new FileFormat { ParquetFormat = new FileFormat.Types.ParquetFormat() },
                };
                break;
            case PostgresSource postgres:
                message.Type = Feast.Core.DataSource.Types.SourceType.CustomSource;
                message.DataSourceClassType = PostgresSourceClass;
                message.CustomOptions = new Feast.Core.DataSource.Types.CustomSourceOptions { Configuration = PostgresOptions(postgres) };
                break;
            case PushSource push:
                message.Type = Feast.Core.DataSource.Types.SourceType.PushSource;
                message.PushOptions = new Feast.Core.DataSource.Types.PushOptions();
                if (snapshot.FindDataSource(push.BatchSource) is { } batch)
                {
                    message.BatchSource = Source(snapshot, batch, updated);
                    // Feast's push source takes its batch source's time columns and mapping when it declares none of its own.
                    if (push.TimestampField.Length == 0 && push.CreatedTimestampField is null && push.FieldMapping.Count == 0)
                    {
                        message.TimestampField = batch.TimestampField;
                        message.CreatedTimestampColumn = batch.CreatedTimestampField ?? "";
                        AddAll(message.FieldMapping, batch.FieldMapping);
                    }
                }
                break;
            case RequestSource request:
                message.Type = Feast.Core.DataSource.Types.SourceType.RequestSource;
                var options = new Feast.Core.DataSource.Types.RequestDataOptions();
                foreach (var field in request.Schema) options.Schema.Add(Feature(field));
                message.RequestDataOptions = options;
                break;
        }
        return message;
    }

    /// <summary>Feast's PostgreSQL source options: JSON <c>{"name", "query", "table"}</c>, as Feast's <c>PostgreSQLOptions.to_proto</c> writes them.</summary>
    private static ByteString PostgresOptions(PostgresSource postgres)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("name", postgres.Name);
            json.WriteString("query", postgres.Query);
            json.WriteString("table", postgres.Table);
            json.WriteEndObject();
        }
        return ByteString.CopyFrom(buffer.WrittenSpan);
    }

    /// <summary>A feature view as Feast's <c>FeatureView</c>: on a push source, the push source is its stream source and the push's batch source its batch source.</summary>
    public static Feast.Core.FeatureView View(RegistrySnapshot snapshot, FeatureView view, Timestamp updated)
    {
        var spec = new FeatureViewSpec
        {
            Name = view.Name,
            Project = snapshot.Project,
            Online = view.Online,
            Description = view.Description ?? "",
            Owner = view.Owner ?? "",
        };
        if (view.HasTtl) spec.Ttl = Duration.FromTimeSpan(view.Ttl!.Value);
        spec.Entities.AddRange(view.Entities);
        foreach (var name in view.Entities)
            if (snapshot.FindEntity(name) is { } entity)
                spec.EntityColumns.Add(new FeatureSpecV2 { Name = entity.JoinKey, ValueType = FeastValues.TypeEnum(entity.ValueType) });
        foreach (var field in view.Features) spec.Features.Add(Feature(field));
        AddAll(spec.Tags, view.Tags);
        if (snapshot.FindDataSource(view.Source) is { } source)
        {
            var message = Source(snapshot, source, updated);
            if (source is PushSource)
            {
                spec.StreamSource = message;
                if (message.BatchSource is { } batch) spec.BatchSource = batch;
            }
            else
            {
                spec.BatchSource = message;
            }
        }
        var meta = new FeatureViewMeta { LastUpdatedTimestamp = updated };
        if (snapshot.MaterializationIntervals.TryGetValue(view.Name, out var intervals))
            foreach (var interval in intervals)
                meta.MaterializationIntervals.Add(new Feast.Core.MaterializationInterval
                {
                    StartTime = Timestamp.FromDateTimeOffset(interval.Start),
                    EndTime = Timestamp.FromDateTimeOffset(interval.End),
                });
        return new Feast.Core.FeatureView { Spec = spec, Meta = meta };
    }

    /// <summary>
    /// An on-demand view as Feast's <c>OnDemandFeatureView</c>: schema and sources as they are; the C# transform cannot travel
    /// as a Python function, so the description says so and the function sent only raises, naming the transform.
    /// </summary>
    public static Feast.Core.OnDemandFeatureView OnDemandView(RegistrySnapshot snapshot, OnDemandFeatureView view, Timestamp updated)
    {
        var spec = new OnDemandFeatureViewSpec
        {
            Name = view.Name,
            Project = snapshot.Project,
            Description = OnDemandDescription(view),
            Mode = "python",
            FeatureTransformation = new FeatureTransformationV2 { UserDefinedFunction = ServerOnlyFunction(view) },
        };
        foreach (var field in view.Features) spec.Features.Add(Feature(field));
        AddAll(spec.Tags, view.Tags);
        foreach (var name in view.Sources)
        {
            if (snapshot.FindFeatureView(name) is { } input)
                spec.Sources[name] = new OnDemandSource { FeatureViewProjection = Projection(input.Name, null, input.Features, RegistryObject.EmptyTags) };
            else if (snapshot.FindDataSource(name) is RequestSource request)
                spec.Sources[name] = new OnDemandSource { RequestDataSource = Source(snapshot, request, updated) };
        }
        return new Feast.Core.OnDemandFeatureView { Spec = spec, Meta = new OnDemandFeatureViewMeta { LastUpdatedTimestamp = updated } };
    }

    /// <summary>The view's description, followed by where its values come from.</summary>
    public static string OnDemandDescription(OnDemandFeatureView view)
    {
        var note = $"Computed by Granary's C# transform '{view.Transform}' on the server; it is not a Python function. " +
                   "Read it with get_online_features through Granary (online_store type remote).";
        return string.IsNullOrEmpty(view.Description) ? note : view.Description + "\n\n" + note;
    }

    /// <summary>
    /// A Python function Feast's SDK can load (it rebuilds every on-demand view's function when it reads the registry)
    /// that raises if called locally, saying the values come from the server.
    /// </summary>
    private static UserDefinedFunctionV2 ServerOnlyFunction(OnDemandFeatureView view)
    {
        var name = PythonName(view.Transform);
        var message = $"on-demand feature view '{view.Name}' is computed by Granary's C# transform '{view.Transform}' on the server; " +
                      "read it with get_online_features through Granary (online_store type remote)";
        var body = $"def {name}(inputs):\n    raise RuntimeError({JsonSerializer.Serialize(message, PythonString)})\n";
        return new UserDefinedFunctionV2 { Name = name, BodyText = body, Mode = "python" };
    }

    /// <summary>The transform's class name as a Python identifier (letters, digits and underscores; a leading digit gets an underscore).</summary>
    private static string PythonName(string transform)
    {
        var simple = transform[(transform.LastIndexOf('.') + 1)..];
        var name = string.Create(simple.Length, simple, static (span, s) =>
        {
            for (var i = 0; i < s.Length; i++) span[i] = char.IsAsciiLetterOrDigit(s[i]) ? s[i] : '_';
        });
        return name.Length == 0 || char.IsAsciiDigit(name[0]) ? "_" + name : name;
    }

    /// <summary>The tag that lists the Granary actions a permission grants beyond Feast's eight (Feast's wire cannot carry them).</summary>
    public const string GranaryActionsTag = "granary_actions";

    /// <summary>
    /// A permission as Feast's <c>Permission</c> (what Feast's <c>Permission.to_proto</c> writes), or null for one that grants
    /// only Granary's own actions: Feast's <c>from_proto</c> refuses a permission without actions. Granary's actions
    /// (ERASE, READ_UNMASKED) are not values of Feast's <c>AuthzedAction</c>, so they travel in the
    /// <see cref="GranaryActionsTag"/> tag; no types means every kind, as Feast reads an empty list.
    /// </summary>
    public static Feast.Core.Permission? Permission(RegistrySnapshot snapshot, Permission permission, Timestamp updated)
    {
        var spec = new PermissionSpec
        {
            Name = permission.Name,
            Project = snapshot.Project,
            Policy = new Policy { RoleBasedPolicy = new RoleBasedPolicy { Roles = { permission.Roles } } },
        };
        foreach (var type in permission.Types) spec.Types_.Add(PermissionType(type));
        spec.NamePatterns.Add(permission.NamePatterns);
        AddAll(spec.RequiredTags, permission.RequiredTags);
        AddAll(spec.Tags, permission.Tags);
        var granaryOnly = new List<string>();
        foreach (var action in permission.Actions)
        {
            if (FeastAction(action) is { } feast) spec.Actions.Add(feast);
            else granaryOnly.Add(global::Granary.Core.Security.PermissionRules.Name(action));
        }
        if (granaryOnly.Count > 0) spec.Tags[GranaryActionsTag] = string.Join(",", granaryOnly);
        if (spec.Actions.Count == 0) return null;
        return new Feast.Core.Permission
        {
            Spec = spec,
            Meta = new PermissionMeta { LastUpdatedTimestamp = updated },
        };
    }

    private static PermissionSpec.Types.AuthzedAction? FeastAction(global::Granary.Core.Security.PermissionAction action) => action switch
    {
        global::Granary.Core.Security.PermissionAction.Create => PermissionSpec.Types.AuthzedAction.Create,
        global::Granary.Core.Security.PermissionAction.Describe => PermissionSpec.Types.AuthzedAction.Describe,
        global::Granary.Core.Security.PermissionAction.Update => PermissionSpec.Types.AuthzedAction.Update,
        global::Granary.Core.Security.PermissionAction.Delete => PermissionSpec.Types.AuthzedAction.Delete,
        global::Granary.Core.Security.PermissionAction.ReadOnline => PermissionSpec.Types.AuthzedAction.ReadOnline,
        global::Granary.Core.Security.PermissionAction.ReadOffline => PermissionSpec.Types.AuthzedAction.ReadOffline,
        global::Granary.Core.Security.PermissionAction.WriteOnline => PermissionSpec.Types.AuthzedAction.WriteOnline,
        global::Granary.Core.Security.PermissionAction.WriteOffline => PermissionSpec.Types.AuthzedAction.WriteOffline,
        _ => null,
    };

    private static PermissionSpec.Types.Type PermissionType(string type) => type switch
    {
        global::Granary.Core.Security.PermissionRules.FeatureView => PermissionSpec.Types.Type.FeatureView,
        global::Granary.Core.Security.PermissionRules.OnDemandFeatureView => PermissionSpec.Types.Type.OnDemandFeatureView,
        global::Granary.Core.Security.PermissionRules.FeatureService => PermissionSpec.Types.Type.FeatureService,
        global::Granary.Core.Security.PermissionRules.Entity => PermissionSpec.Types.Type.Entity,
        global::Granary.Core.Security.PermissionRules.DataSource => PermissionSpec.Types.Type.DataSource,
        global::Granary.Core.Security.PermissionRules.Permission => PermissionSpec.Types.Type.Permission,
        global::Granary.Core.Security.PermissionRules.Project => PermissionSpec.Types.Type.Project,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "apply admits only the permission types PermissionRules.ResourceTypes lists"),
    };

    /// <summary>A feature service as Feast's <c>FeatureService</c>: a projection that selects nothing lists every feature of its view, as Feast's does.</summary>
    public static Feast.Core.FeatureService Service(RegistrySnapshot snapshot, FeatureService service, Timestamp updated)
    {
        var spec = new FeatureServiceSpec
        {
            Name = service.Name,
            Project = snapshot.Project,
            Description = service.Description ?? "",
        };
        AddAll(spec.Tags, service.Tags);
        foreach (var projection in service.Projections)
        {
            var fields = snapshot.FindFeatureView(projection.View)?.Features ?? snapshot.FindOnDemandFeatureView(projection.View)?.Features ?? [];
            spec.Features.Add(Projection(projection.View, projection.Alias, Selected(fields, projection), projection.JoinKeyMap));
        }
        return new Feast.Core.FeatureService { Spec = spec, Meta = new FeatureServiceMeta { LastUpdatedTimestamp = updated } };
    }

    private static IEnumerable<Field> Selected(IReadOnlyList<Field> fields, FeatureViewProjection projection)
    {
        if (projection.Features.Count == 0) return fields;
        // In the projection's order, as the service lists them.
        return projection.Features.Select(name => fields.FirstOrDefault(f => f.Name == name)).OfType<Field>();
    }

    private static Feast.Core.FeatureViewProjection Projection(string view, string? alias, IEnumerable<Field> fields, IReadOnlyDictionary<string, string> joinKeyMap)
    {
        var message = new Feast.Core.FeatureViewProjection { FeatureViewName = view, FeatureViewNameAlias = alias ?? "" };
        foreach (var field in fields) message.FeatureColumns.Add(Feature(field));
        AddAll(message.JoinKeyMap, joinKeyMap);
        return message;
    }

    /// <summary>A schema field as Feast's <c>FeatureSpecV2</c>.</summary>
    public static FeatureSpecV2 Feature(Field field)
    {
        var spec = new FeatureSpecV2 { Name = field.Name, ValueType = FeastValues.TypeEnum(field.Type), Description = field.Description ?? "" };
        AddAll(spec.Tags, field.Tags);
        return spec;
    }

    private static void AddAll(MapField<string, string> target, IReadOnlyDictionary<string, string> source)
    {
        foreach (var (key, value) in source) target[key] = value;
    }
}

/// <summary>One registry version in Feast's messages, with each kind's objects by name for the get methods.</summary>
public sealed class FeastRegistry
{
    internal FeastRegistry(RegistrySnapshot snapshot, Feast.Core.Registry registry)
    {
        Snapshot = snapshot;
        Registry = registry;
        Entities = registry.Entities.ToDictionary(e => e.Spec.Name, StringComparer.Ordinal);
        DataSources = registry.DataSources.ToDictionary(s => s.Name, StringComparer.Ordinal);
        FeatureViews = registry.FeatureViews.ToDictionary(v => v.Spec.Name, StringComparer.Ordinal);
        OnDemandFeatureViews = registry.OnDemandFeatureViews.ToDictionary(v => v.Spec.Name, StringComparer.Ordinal);
        FeatureServices = registry.FeatureServices.ToDictionary(s => s.Spec.Name, StringComparer.Ordinal);
        Permissions = registry.Permissions.ToDictionary(p => p.Spec.Name, StringComparer.Ordinal);
    }

    /// <summary>The version mapped.</summary>
    public RegistrySnapshot Snapshot { get; }
    /// <summary>The whole registry (what <c>Proto</c> answers). Shared: never modify it.</summary>
    public Feast.Core.Registry Registry { get; }
    /// <summary>Entities by name.</summary>
    public IReadOnlyDictionary<string, Feast.Core.Entity> Entities { get; }
    /// <summary>Data sources by name.</summary>
    public IReadOnlyDictionary<string, Feast.Core.DataSource> DataSources { get; }
    /// <summary>Feature views by name.</summary>
    public IReadOnlyDictionary<string, Feast.Core.FeatureView> FeatureViews { get; }
    /// <summary>On-demand feature views by name.</summary>
    public IReadOnlyDictionary<string, Feast.Core.OnDemandFeatureView> OnDemandFeatureViews { get; }
    /// <summary>Feature services by name.</summary>
    public IReadOnlyDictionary<string, Feast.Core.FeatureService> FeatureServices { get; }
    /// <summary>Permissions by name (those Feast's wire can carry).</summary>
    public IReadOnlyDictionary<string, Feast.Core.Permission> Permissions { get; }
}
