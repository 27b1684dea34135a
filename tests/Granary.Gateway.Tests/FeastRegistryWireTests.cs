using Google.Protobuf.Reflection;

namespace Granary.Gateway.Tests;

/// <summary>
/// Granary's registry .proto files against Feast's: every message and field they declare has Feast's full name and field
/// number, and the service has every one of Feast's methods with Feast's request and response types.
/// </summary>
/// <remarks>
/// The tables below are Feast v0.66.0's, read from feast-dev/feast at commit f0bc0700be7029166e6605e407de6d229cd1e93e:
/// protos/feast/core/{Entity,Feature,DataFormat,DataSource,Transformation,FeatureView,FeatureViewProjection,
/// OnDemandFeatureView,StreamFeatureView,FeatureService,Policy,Permission,Project,Registry}.proto and
/// protos/feast/registry/RegistryServer.proto (message: field=number ...; method(request)->response).
/// Granary's files may leave out messages and fields (they say which), never change one.
/// </remarks>
public sealed class FeastRegistryWireTests
{
    private static readonly string[] FeastFields =
    [
        "feast.core.CombinedGroupNamespacePolicy: groups=1 namespaces=2",
        "feast.core.ConnectionRef: provider=1 name=2 namespace=3 connection_type=4 auth_type=5 params=6",
        "feast.core.DataSource: name=20 project=21 description=23 tags=24 owner=25 type=1 field_mapping=2 timestamp_field=3 date_partition_column=4 created_timestamp_column=5 timestamp_field_type=28 data_source_class_type=17 batch_source=26 connection_ref=29 meta=50 file_options=11 bigquery_options=12 kafka_options=13 kinesis_options=14 redshift_options=15 request_data_options=18 custom_options=16 snowflake_options=19 push_options=22 spark_options=27 trino_options=30 athena_options=35",
        "feast.core.DataSource.AthenaOptions: table=1 query=2 database=3 data_source=4",
        "feast.core.DataSource.BigQueryOptions: table=1 query=2",
        "feast.core.DataSource.CustomSourceOptions: configuration=1",
        "feast.core.DataSource.FileOptions: file_format=1 uri=2 s3_endpoint_override=3",
        "feast.core.DataSource.KafkaOptions: kafka_bootstrap_servers=1 topic=2 message_format=3 watermark_delay_threshold=4",
        "feast.core.DataSource.KinesisOptions: region=1 stream_name=2 record_format=3",
        "feast.core.DataSource.PushOptions:",
        "feast.core.DataSource.RedshiftOptions: table=1 query=2 schema=3 database=4",
        "feast.core.DataSource.RequestDataOptions: deprecated_schema=2 schema=3",
        "feast.core.DataSource.SnowflakeOptions: table=1 query=2 schema=3 database=4",
        "feast.core.DataSource.SourceMeta: earliestEventTimestamp=1 latestEventTimestamp=2 created_timestamp=3 last_updated_timestamp=4",
        "feast.core.DataSource.SparkOptions: table=1 query=2 path=3 file_format=4 date_partition_column_format=5 table_format=6",
        "feast.core.DataSource.TrinoOptions: table=1 query=2",
        "feast.core.DataSourceList: datasources=1",
        "feast.core.Entity: spec=1 meta=2",
        "feast.core.EntityList: entities=1",
        "feast.core.EntityMeta: created_timestamp=1 last_updated_timestamp=2",
        "feast.core.EntitySpecV2: name=1 project=9 value_type=2 description=3 join_key=4 tags=8 owner=10",
        "feast.core.FeatureService: spec=1 meta=2",
        "feast.core.FeatureServiceList: featureservices=1",
        "feast.core.FeatureServiceMeta: created_timestamp=1 last_updated_timestamp=2",
        "feast.core.FeatureServiceSpec: name=1 project=2 features=3 tags=4 description=5 owner=6 logging_config=7 precompute_online=8",
        "feast.core.FeatureSpecV2: name=1 value_type=2 tags=3 description=4 vector_index=5 vector_search_metric=6 vector_length=7",
        "feast.core.FeatureTransformationV2: user_defined_function=1 substrait_transformation=2",
        "feast.core.FeatureView: spec=1 meta=2",
        "feast.core.FeatureViewList: featureviews=1",
        "feast.core.FeatureViewMeta: created_timestamp=1 last_updated_timestamp=2 materialization_intervals=3 current_version_number=4 version_id=5 state=6",
        "feast.core.FeatureViewProjection: feature_view_name=1 feature_view_name_alias=3 feature_columns=2 join_key_map=4 timestamp_field=5 date_partition_column=6 created_timestamp_column=7 batch_source=8 stream_source=9 version_tag=10 view_type=11",
        "feast.core.FeatureViewSpec: name=1 project=2 entities=3 features=4 tags=5 ttl=6 batch_source=7 online=8 stream_source=9 description=10 owner=11 entity_columns=12 offline=13 source_views=14 feature_transformation=15 mode=16 enable_validation=17 version=18 org=19 disabled=20",
        "feast.core.FileFormat: parquet_format=1 delta_format=2",
        "feast.core.FileFormat.ParquetFormat:",
        "feast.core.GroupBasedPolicy: groups=1",
        "feast.core.LoggingConfig: sample_rate=1 file_destination=3 bigquery_destination=4 redshift_destination=5 snowflake_destination=6 custom_destination=7 athena_destination=8 couchbase_columnar_destination=9",
        "feast.core.LoggingConfig.AthenaDestination: table_name=1",
        "feast.core.LoggingConfig.BigQueryDestination: table_ref=1",
        "feast.core.LoggingConfig.CouchbaseColumnarDestination: database=1 scope=2 collection=3",
        "feast.core.LoggingConfig.CustomDestination: kind=1 config=2",
        "feast.core.LoggingConfig.FileDestination: path=1 s3_endpoint_override=2 partition_by=3",
        "feast.core.LoggingConfig.RedshiftDestination: table_name=1",
        "feast.core.LoggingConfig.SnowflakeDestination: table_name=1",
        "feast.core.MaterializationInterval: start_time=1 end_time=2",
        "feast.core.NamespaceBasedPolicy: namespaces=1",
        "feast.core.OnDemandFeatureView: spec=1 meta=2",
        "feast.core.OnDemandFeatureViewList: ondemandfeatureviews=1",
        "feast.core.OnDemandFeatureViewMeta: created_timestamp=1 last_updated_timestamp=2 current_version_number=3 version_id=4 state=5",
        "feast.core.OnDemandFeatureViewSpec: name=1 project=2 features=3 sources=4 user_defined_function=5 feature_transformation=10 description=6 tags=7 owner=8 mode=11 write_to_online_store=12 entities=13 entity_columns=14 singleton=15 aggregations=16 version=17 org=18 disabled=19",
        "feast.core.OnDemandSource: feature_view=1 feature_view_projection=3 request_data_source=2",
        "feast.core.Permission: spec=1 meta=2",
        "feast.core.PermissionMeta: created_timestamp=1 last_updated_timestamp=2",
        "feast.core.PermissionSpec: name=1 project=2 types=3 name_patterns=4 required_tags=5 actions=6 policy=7 tags=8",
        "feast.core.Policy: name=1 project=2 role_based_policy=3 group_based_policy=4 namespace_based_policy=5 combined_group_namespace_policy=6",
        "feast.core.Project: spec=1 meta=2",
        "feast.core.ProjectMeta: created_timestamp=1 last_updated_timestamp=2",
        "feast.core.ProjectMetadata: project=1 project_uuid=2",
        "feast.core.ProjectSpec: name=1 description=2 tags=3 owner=4",
        "feast.core.Registry: entities=1 feature_tables=2 feature_views=6 data_sources=12 on_demand_feature_views=8 stream_feature_views=14 feature_services=7 saved_datasets=11 validation_references=13 infra=10 project_metadata=15 registry_schema_version=3 version_id=4 last_updated=5 permissions=16 projects=17 feature_view_version_history=18 label_views=19",
        "feast.core.RoleBasedPolicy: roles=1",
        "feast.core.StreamFeatureView: spec=1 meta=2",
        "feast.core.StreamFeatureViewSpec: name=1 project=2 entities=3 features=4 entity_columns=5 description=6 tags=7 owner=8 ttl=9 batch_source=10 stream_source=11 online=12 user_defined_function=13 mode=14 aggregations=15 timestamp_field=16 feature_transformation=17 enable_tiling=18 tiling_hop_size=19 enable_validation=20 version=21 org=22 disabled=23",
        "feast.core.StreamFormat: avro_format=1 proto_format=2 json_format=3",
        "feast.core.StreamFormat.AvroFormat: schema_json=1",
        "feast.core.StreamFormat.JsonFormat: schema_json=1",
        "feast.core.StreamFormat.ProtoFormat: class_path=1",
        "feast.core.SubstraitTransformationV2: substrait_plan=1 ibis_function=2",
        "feast.core.TableFormat: iceberg_format=1 delta_format=2 hudi_format=3",
        "feast.core.TableFormat.DeltaFormat: checkpoint_location=1 properties=2",
        "feast.core.TableFormat.HudiFormat: table_type=1 record_key=2 precombine_field=3 properties=4",
        "feast.core.TableFormat.IcebergFormat: catalog=1 namespace=2 properties=3",
        "feast.core.UserDefinedFunction: name=1 body=2 body_text=3",
        "feast.core.UserDefinedFunctionV2: name=1 body=2 body_text=3 mode=4",
        "feast.registry.AnyFeatureView: feature_view=1 on_demand_feature_view=2 stream_feature_view=3 label_view=4",
        "feast.registry.ApplyDataSourceRequest: data_source=1 project=2 commit=3",
        "feast.registry.ApplyEntityRequest: entity=1 project=2 commit=3",
        "feast.registry.ApplyFeatureServiceRequest: feature_service=1 project=2 commit=3",
        "feast.registry.ApplyFeatureViewRequest: feature_view=1 on_demand_feature_view=2 stream_feature_view=3 label_view=6 project=4 commit=5",
        "feast.registry.ApplyMaterializationRequest: feature_view=1 project=2 start_date=3 end_date=4 commit=5",
        "feast.registry.ApplyPermissionRequest: permission=1 project=2 commit=3",
        "feast.registry.ApplyProjectRequest: project=1 commit=2",
        "feast.registry.ApplySavedDatasetRequest: saved_dataset=1 project=2 commit=3",
        "feast.registry.ApplyValidationReferenceRequest: validation_reference=1 project=2 commit=3",
        "feast.registry.CreateDatasetFromRetrievalRequest: name=1 project=2 feature_service_name=3 features=4 entity_source_type=5 entity_source_path=6 entity_keys=8 entity_values=9 start_date=10 end_date=11 extra_columns=12 storage_type=13 storage_path=14 tags=15 allow_overwrite=16",
        "feast.registry.CreateDatasetFromRetrievalResponse: job_id=1 status=2",
        "feast.registry.DeleteDataSourceRequest: name=1 project=2 commit=3",
        "feast.registry.DeleteEntityRequest: name=1 project=2 commit=3",
        "feast.registry.DeleteFeatureServiceRequest: name=1 project=2 commit=3",
        "feast.registry.DeleteFeatureViewRequest: name=1 project=2 commit=3",
        "feast.registry.DeletePermissionRequest: name=1 project=2 commit=3",
        "feast.registry.DeleteProjectRequest: name=1 commit=2",
        "feast.registry.DeleteSavedDatasetRequest: name=1 project=2 commit=3",
        "feast.registry.DeleteValidationReferenceRequest: name=1 project=2 commit=3",
        "feast.registry.EntityReference: type=1 name=2",
        "feast.registry.EntityRelation: source=1 target=2",
        "feast.registry.Feature: name=1 feature_view=2 type=3 description=4 owner=5 created_timestamp=6 last_updated_timestamp=7 tags=8 kind=9",
        "feast.registry.GetAnyFeatureViewRequest: name=1 project=2 allow_cache=3",
        "feast.registry.GetAnyFeatureViewResponse: any_feature_view=1",
        "feast.registry.GetDataSourceRequest: name=1 project=2 allow_cache=3",
        "feast.registry.GetDatasetDataRequest: name=1 project=2 limit=3",
        "feast.registry.GetDatasetDataResponse: columns=1 rows=2 total_rows=3 sample_size=4",
        "feast.registry.GetDatasetJobStatusRequest: job_id=1",
        "feast.registry.GetDatasetJobStatusResponse: job_id=1 dataset_name=2 project=3 status=4 created_at=5 completed_at=6 error=7",
        "feast.registry.GetEntityRequest: name=1 project=2 allow_cache=3",
        "feast.registry.GetFeatureRequest: project=1 feature_view=2 name=3 allow_cache=4",
        "feast.registry.GetFeatureServiceRequest: name=1 project=2 allow_cache=3",
        "feast.registry.GetFeatureViewRequest: name=1 project=2 allow_cache=3",
        "feast.registry.GetInfraRequest: project=1 allow_cache=2",
        "feast.registry.GetLabelViewRequest: name=1 project=2 allow_cache=3",
        "feast.registry.GetObjectRelationshipsRequest: project=1 object_type=2 object_name=3 include_indirect=4 allow_cache=5 pagination=6 sorting=7",
        "feast.registry.GetObjectRelationshipsResponse: relationships=1 pagination=2",
        "feast.registry.GetOnDemandFeatureViewRequest: name=1 project=2 allow_cache=3",
        "feast.registry.GetPermissionRequest: name=1 project=2 allow_cache=3",
        "feast.registry.GetProjectRequest: name=1 allow_cache=2",
        "feast.registry.GetRegistryLineageRequest: project=1 allow_cache=2 filter_object_type=3 filter_object_name=4 pagination=5 sorting=6",
        "feast.registry.GetRegistryLineageResponse: relationships=1 indirect_relationships=2 relationships_pagination=3 indirect_relationships_pagination=4",
        "feast.registry.GetSavedDatasetRequest: name=1 project=2 allow_cache=3",
        "feast.registry.GetStreamFeatureViewRequest: name=1 project=2 allow_cache=3",
        "feast.registry.GetValidationReferenceRequest: name=1 project=2 allow_cache=3",
        "feast.registry.ListAllFeatureViewsRequest: project=1 allow_cache=2 tags=3 entity=4 feature=5 feature_service=6 data_source=7 pagination=8 sorting=9 updated_since=10",
        "feast.registry.ListAllFeatureViewsResponse: feature_views=1 pagination=2",
        "feast.registry.ListDataSourcesRequest: project=1 allow_cache=2 tags=3 pagination=4 sorting=5",
        "feast.registry.ListDataSourcesResponse: data_sources=1 pagination=2",
        "feast.registry.ListDatasetJobsRequest: project=1 status_filter=2",
        "feast.registry.ListDatasetJobsResponse: jobs=1",
        "feast.registry.ListEntitiesRequest: project=1 allow_cache=2 tags=3 pagination=4 sorting=5",
        "feast.registry.ListEntitiesResponse: entities=1 pagination=2",
        "feast.registry.ListFeatureServicesRequest: project=1 allow_cache=2 tags=3 feature_view=4 pagination=5 sorting=6",
        "feast.registry.ListFeatureServicesResponse: feature_services=1 pagination=2",
        "feast.registry.ListFeatureViewsRequest: project=1 allow_cache=2 tags=3 pagination=4 sorting=5",
        "feast.registry.ListFeatureViewsResponse: feature_views=1 pagination=2",
        "feast.registry.ListFeaturesRequest: project=1 feature_view=2 name=3 allow_cache=6 pagination=4 sorting=5 kind=7",
        "feast.registry.ListFeaturesResponse: features=1 pagination=2",
        "feast.registry.ListLabelViewsRequest: project=1 allow_cache=2 tags=3 pagination=4 sorting=5",
        "feast.registry.ListLabelViewsResponse: label_views=1 pagination=2",
        "feast.registry.ListOnDemandFeatureViewsRequest: project=1 allow_cache=2 tags=3 pagination=4 sorting=5",
        "feast.registry.ListOnDemandFeatureViewsResponse: on_demand_feature_views=1 pagination=2",
        "feast.registry.ListPermissionsRequest: project=1 allow_cache=2 tags=3 pagination=4 sorting=5",
        "feast.registry.ListPermissionsResponse: permissions=1 pagination=2",
        "feast.registry.ListProjectMetadataRequest: project=1 allow_cache=2",
        "feast.registry.ListProjectMetadataResponse: project_metadata=1",
        "feast.registry.ListProjectsRequest: allow_cache=1 tags=2 pagination=3 sorting=4",
        "feast.registry.ListProjectsResponse: projects=1 pagination=2",
        "feast.registry.ListSavedDatasetsRequest: project=1 allow_cache=2 tags=3 pagination=4 sorting=5 namespace=6 collection=7",
        "feast.registry.ListSavedDatasetsResponse: saved_datasets=1 pagination=2",
        "feast.registry.ListStreamFeatureViewsRequest: project=1 allow_cache=2 tags=3 pagination=4 sorting=5",
        "feast.registry.ListStreamFeatureViewsResponse: stream_feature_views=1 pagination=2",
        "feast.registry.ListValidationReferencesRequest: project=1 allow_cache=2 tags=3 pagination=4 sorting=5",
        "feast.registry.ListValidationReferencesResponse: validation_references=1 pagination=2",
        "feast.registry.PaginationMetadata: page=1 limit=2 total_count=3 total_pages=4 has_next=5 has_previous=6",
        "feast.registry.PaginationParams: page=1 limit=2",
        "feast.registry.RefreshRequest: project=1",
        "feast.registry.SortingParams: sort_by=1 sort_order=2",
        "feast.registry.TabularRow: values=1",
        "feast.registry.UpdateInfraRequest: infra=1 project=2 commit=3",
    ];

    private static readonly string[] FeastMethods =
    [
        "ApplyEntity(feast.registry.ApplyEntityRequest)->google.protobuf.Empty GetEntity(feast.registry.GetEntityRequest)->feast.core.Entity ListEntities(feast.registry.ListEntitiesRequest)->feast.registry.ListEntitiesResponse",
        "DeleteEntity(feast.registry.DeleteEntityRequest)->google.protobuf.Empty ApplyDataSource(feast.registry.ApplyDataSourceRequest)->google.protobuf.Empty GetDataSource(feast.registry.GetDataSourceRequest)->feast.core.DataSource",
        "ListDataSources(feast.registry.ListDataSourcesRequest)->feast.registry.ListDataSourcesResponse DeleteDataSource(feast.registry.DeleteDataSourceRequest)->google.protobuf.Empty ApplyFeatureView(feast.registry.ApplyFeatureViewRequest)->google.protobuf.Empty",
        "DeleteFeatureView(feast.registry.DeleteFeatureViewRequest)->google.protobuf.Empty GetAnyFeatureView(feast.registry.GetAnyFeatureViewRequest)->feast.registry.GetAnyFeatureViewResponse ListAllFeatureViews(feast.registry.ListAllFeatureViewsRequest)->feast.registry.ListAllFeatureViewsResponse",
        "GetFeatureView(feast.registry.GetFeatureViewRequest)->feast.core.FeatureView ListFeatureViews(feast.registry.ListFeatureViewsRequest)->feast.registry.ListFeatureViewsResponse GetStreamFeatureView(feast.registry.GetStreamFeatureViewRequest)->feast.core.StreamFeatureView",
        "ListStreamFeatureViews(feast.registry.ListStreamFeatureViewsRequest)->feast.registry.ListStreamFeatureViewsResponse GetOnDemandFeatureView(feast.registry.GetOnDemandFeatureViewRequest)->feast.core.OnDemandFeatureView ListOnDemandFeatureViews(feast.registry.ListOnDemandFeatureViewsRequest)->feast.registry.ListOnDemandFeatureViewsResponse",
        "GetLabelView(feast.registry.GetLabelViewRequest)->feast.core.LabelView ListLabelViews(feast.registry.ListLabelViewsRequest)->feast.registry.ListLabelViewsResponse ApplyFeatureService(feast.registry.ApplyFeatureServiceRequest)->google.protobuf.Empty",
        "GetFeatureService(feast.registry.GetFeatureServiceRequest)->feast.core.FeatureService ListFeatureServices(feast.registry.ListFeatureServicesRequest)->feast.registry.ListFeatureServicesResponse DeleteFeatureService(feast.registry.DeleteFeatureServiceRequest)->google.protobuf.Empty",
        "ApplySavedDataset(feast.registry.ApplySavedDatasetRequest)->google.protobuf.Empty GetSavedDataset(feast.registry.GetSavedDatasetRequest)->feast.core.SavedDataset ListSavedDatasets(feast.registry.ListSavedDatasetsRequest)->feast.registry.ListSavedDatasetsResponse",
        "DeleteSavedDataset(feast.registry.DeleteSavedDatasetRequest)->google.protobuf.Empty CreateDatasetFromRetrieval(feast.registry.CreateDatasetFromRetrievalRequest)->feast.registry.CreateDatasetFromRetrievalResponse GetDatasetData(feast.registry.GetDatasetDataRequest)->feast.registry.GetDatasetDataResponse",
        "GetDatasetJobStatus(feast.registry.GetDatasetJobStatusRequest)->feast.registry.GetDatasetJobStatusResponse ListDatasetJobs(feast.registry.ListDatasetJobsRequest)->feast.registry.ListDatasetJobsResponse ApplyValidationReference(feast.registry.ApplyValidationReferenceRequest)->google.protobuf.Empty",
        "GetValidationReference(feast.registry.GetValidationReferenceRequest)->feast.core.ValidationReference ListValidationReferences(feast.registry.ListValidationReferencesRequest)->feast.registry.ListValidationReferencesResponse DeleteValidationReference(feast.registry.DeleteValidationReferenceRequest)->google.protobuf.Empty",
        "ApplyPermission(feast.registry.ApplyPermissionRequest)->google.protobuf.Empty GetPermission(feast.registry.GetPermissionRequest)->feast.core.Permission ListPermissions(feast.registry.ListPermissionsRequest)->feast.registry.ListPermissionsResponse",
        "DeletePermission(feast.registry.DeletePermissionRequest)->google.protobuf.Empty ApplyProject(feast.registry.ApplyProjectRequest)->google.protobuf.Empty GetProject(feast.registry.GetProjectRequest)->feast.core.Project",
        "ListProjects(feast.registry.ListProjectsRequest)->feast.registry.ListProjectsResponse DeleteProject(feast.registry.DeleteProjectRequest)->google.protobuf.Empty ApplyMaterialization(feast.registry.ApplyMaterializationRequest)->google.protobuf.Empty",
        "ListProjectMetadata(feast.registry.ListProjectMetadataRequest)->feast.registry.ListProjectMetadataResponse UpdateInfra(feast.registry.UpdateInfraRequest)->google.protobuf.Empty GetInfra(feast.registry.GetInfraRequest)->feast.core.Infra",
        "Commit(google.protobuf.Empty)->google.protobuf.Empty Refresh(feast.registry.RefreshRequest)->google.protobuf.Empty Proto(google.protobuf.Empty)->feast.core.Registry",
        "GetRegistryLineage(feast.registry.GetRegistryLineageRequest)->feast.registry.GetRegistryLineageResponse GetObjectRelationships(feast.registry.GetObjectRelationshipsRequest)->feast.registry.GetObjectRelationshipsResponse ListFeatures(feast.registry.ListFeaturesRequest)->feast.registry.ListFeaturesResponse",
        "GetFeature(feast.registry.GetFeatureRequest)->feast.registry.Feature",
    ];

    private static Dictionary<string, Dictionary<string, int>> Fields() => FeastFields.ToDictionary(
        line => line[..line.IndexOf(':')],
        line => line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .ToDictionary(f => f[..f.IndexOf('=')], f => int.Parse(f[(f.IndexOf('=') + 1)..], System.Globalization.CultureInfo.InvariantCulture)));

    private static IEnumerable<MessageDescriptor> Messages(IEnumerable<MessageDescriptor> messages)
        => messages.SelectMany(m => new[] { m }.Concat(Messages(m.NestedTypes)));

    private static readonly FileDescriptor[] Files =
    [
        Feast.Core.EntityReflection.Descriptor, Feast.Core.FeatureReflection.Descriptor, Feast.Core.DataFormatReflection.Descriptor,
        Feast.Core.DataSourceReflection.Descriptor, Feast.Core.TransformationReflection.Descriptor, Feast.Core.FeatureViewReflection.Descriptor,
        Feast.Core.FeatureViewProjectionReflection.Descriptor, Feast.Core.OnDemandFeatureViewReflection.Descriptor,
        Feast.Core.StreamFeatureViewReflection.Descriptor, Feast.Core.FeatureServiceReflection.Descriptor, Feast.Core.PolicyReflection.Descriptor,
        Feast.Core.PermissionReflection.Descriptor, Feast.Core.ProjectReflection.Descriptor, Feast.Core.RegistryReflection.Descriptor,
        Feast.Registry.RegistryServerReflection.Descriptor,
    ];

    [Fact]
    public void Every_declared_field_has_feasts_name_and_number()
    {
        var feast = Fields();
        var checkedFields = 0;
        foreach (var message in Files.SelectMany(f => Messages(f.MessageTypes)))
        {
            if (message.GetOptions()?.MapEntry == true) continue; // a map field's entry, not a message of the file
            Assert.True(feast.TryGetValue(message.FullName, out var numbers), $"{message.FullName} is not a message of Feast's files");
            foreach (var field in message.Fields.InDeclarationOrder())
            {
                Assert.True(numbers!.TryGetValue(field.Name, out var number), $"{message.FullName}.{field.Name} is not a field of Feast's message");
                Assert.Equal((message.FullName, field.Name, number), (message.FullName, field.Name, field.FieldNumber));
                checkedFields++;
            }
        }
        Assert.True(checkedFields > 200, $"only {checkedFields} fields checked");
    }

    [Fact]
    public void The_service_has_every_feast_method_with_feasts_types()
    {
        var feast = FeastMethods.SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Order(StringComparer.Ordinal).ToList();
        var service = Feast.Registry.RegistryServerReflection.Descriptor.FindTypeByName<ServiceDescriptor>("RegistryServer");
        Assert.Equal("feast.registry.RegistryServer", service.FullName);
        var ours = service.Methods.Select(m => $"{m.Name}({m.InputType.FullName})->{m.OutputType.FullName}").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(feast, ours);
    }
}
