using System.Runtime.InteropServices;

namespace Granary.DuckDb.Native;

/// <summary>DuckDB's <c>duckdb_state</c>: success or error.</summary>
internal enum DuckDbState
{
    Success = 0,
    Error = 1,
}

/// <summary>DuckDB's <c>duckdb_pending_state</c>.</summary>
internal enum DuckDbPendingState
{
    ResultReady = 0,
    ResultNotReady = 1,
    Error = 2,
    NoTasksAvailable = 3,
}

/// <summary>The C API's <c>duckdb_result</c>: six pointer-sized fields, passed by pointer or by value.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct DuckDbResultStruct
{
    public ulong DeprecatedColumnCount;
    public ulong DeprecatedRowCount;
    public ulong DeprecatedRowsChanged;
    public nint DeprecatedColumns;
    public nint DeprecatedErrorMessage;
    public nint InternalData;
}

/// <summary>The C API's <c>duckdb_query_progress_type</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct DuckDbQueryProgress
{
    public double Percentage;
    public ulong RowsProcessed;
    public ulong TotalRowsToProcess;
}

/// <summary>The C API's list entry: where one row's list lives in the child vector.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct DuckDbListEntry
{
    public ulong Offset;
    public ulong Length;
}

/// <summary>Declarations of the DuckDB C API functions Granary uses (see duckdb.h of v1.5).</summary>
internal static unsafe partial class NativeMethods
{
    public const string Library = "duckdb";

    [LibraryImport(Library, EntryPoint = "duckdb_library_version")]
    public static partial nint LibraryVersion();

    [LibraryImport(Library, EntryPoint = "duckdb_create_config")]
    public static partial DuckDbState CreateConfig(out nint config);

    [LibraryImport(Library, EntryPoint = "duckdb_set_config", StringMarshalling = StringMarshalling.Utf8)]
    public static partial DuckDbState SetConfig(nint config, string name, string option);

    [LibraryImport(Library, EntryPoint = "duckdb_destroy_config")]
    public static partial void DestroyConfig(ref nint config);

    [LibraryImport(Library, EntryPoint = "duckdb_open_ext", StringMarshalling = StringMarshalling.Utf8)]
    public static partial DuckDbState OpenExt(string? path, out nint database, nint config, out nint error);

    [LibraryImport(Library, EntryPoint = "duckdb_close")]
    public static partial void Close(ref nint database);

    [LibraryImport(Library, EntryPoint = "duckdb_connect")]
    public static partial DuckDbState Connect(nint database, out nint connection);

    [LibraryImport(Library, EntryPoint = "duckdb_disconnect")]
    public static partial void Disconnect(ref nint connection);

    [LibraryImport(Library, EntryPoint = "duckdb_interrupt")]
    public static partial void Interrupt(nint connection);

    [LibraryImport(Library, EntryPoint = "duckdb_query_progress")]
    public static partial DuckDbQueryProgress QueryProgress(nint connection);

    [LibraryImport(Library, EntryPoint = "duckdb_free")]
    public static partial void Free(nint pointer);

    [LibraryImport(Library, EntryPoint = "duckdb_query", StringMarshalling = StringMarshalling.Utf8)]
    public static partial DuckDbState Query(nint connection, string sql, DuckDbResultStruct* result);

    [LibraryImport(Library, EntryPoint = "duckdb_destroy_result")]
    public static partial void DestroyResult(DuckDbResultStruct* result);

    [LibraryImport(Library, EntryPoint = "duckdb_result_error")]
    public static partial nint ResultError(DuckDbResultStruct* result);

    [LibraryImport(Library, EntryPoint = "duckdb_column_count")]
    public static partial ulong ColumnCount(DuckDbResultStruct* result);

    [LibraryImport(Library, EntryPoint = "duckdb_column_name")]
    public static partial nint ColumnName(DuckDbResultStruct* result, ulong column);

    [LibraryImport(Library, EntryPoint = "duckdb_column_logical_type")]
    public static partial nint ColumnLogicalType(DuckDbResultStruct* result, ulong column);

    [LibraryImport(Library, EntryPoint = "duckdb_rows_changed")]
    public static partial ulong RowsChanged(DuckDbResultStruct* result);

    [LibraryImport(Library, EntryPoint = "duckdb_fetch_chunk")]
    public static partial nint FetchChunk(DuckDbResultStruct result);

    [LibraryImport(Library, EntryPoint = "duckdb_get_type_id")]
    public static partial DuckDbType GetTypeId(nint logicalType);

    [LibraryImport(Library, EntryPoint = "duckdb_list_type_child_type")]
    public static partial nint ListTypeChildType(nint logicalType);

    [LibraryImport(Library, EntryPoint = "duckdb_decimal_scale")]
    public static partial byte DecimalScale(nint logicalType);

    [LibraryImport(Library, EntryPoint = "duckdb_decimal_internal_type")]
    public static partial DuckDbType DecimalInternalType(nint logicalType);

    [LibraryImport(Library, EntryPoint = "duckdb_destroy_logical_type")]
    public static partial void DestroyLogicalType(ref nint logicalType);

    [LibraryImport(Library, EntryPoint = "duckdb_prepare", StringMarshalling = StringMarshalling.Utf8)]
    public static partial DuckDbState Prepare(nint connection, string sql, out nint statement);

    [LibraryImport(Library, EntryPoint = "duckdb_prepare_error")]
    public static partial nint PrepareError(nint statement);

    [LibraryImport(Library, EntryPoint = "duckdb_destroy_prepare")]
    public static partial void DestroyPrepare(ref nint statement);

    [LibraryImport(Library, EntryPoint = "duckdb_nparams")]
    public static partial ulong ParameterCount(nint statement);

    [LibraryImport(Library, EntryPoint = "duckdb_clear_bindings")]
    public static partial DuckDbState ClearBindings(nint statement);

    [LibraryImport(Library, EntryPoint = "duckdb_bind_boolean")]
    public static partial DuckDbState BindBoolean(nint statement, ulong index, [MarshalAs(UnmanagedType.U1)] bool value);

    [LibraryImport(Library, EntryPoint = "duckdb_bind_int32")]
    public static partial DuckDbState BindInt32(nint statement, ulong index, int value);

    [LibraryImport(Library, EntryPoint = "duckdb_bind_int64")]
    public static partial DuckDbState BindInt64(nint statement, ulong index, long value);

    [LibraryImport(Library, EntryPoint = "duckdb_bind_float")]
    public static partial DuckDbState BindFloat(nint statement, ulong index, float value);

    [LibraryImport(Library, EntryPoint = "duckdb_bind_double")]
    public static partial DuckDbState BindDouble(nint statement, ulong index, double value);

    [LibraryImport(Library, EntryPoint = "duckdb_bind_varchar_length")]
    public static partial DuckDbState BindVarcharLength(nint statement, ulong index, byte* value, ulong length);

    [LibraryImport(Library, EntryPoint = "duckdb_bind_blob")]
    public static partial DuckDbState BindBlob(nint statement, ulong index, byte* value, ulong length);

    [LibraryImport(Library, EntryPoint = "duckdb_bind_timestamp")]
    public static partial DuckDbState BindTimestamp(nint statement, ulong index, long micros);

    [LibraryImport(Library, EntryPoint = "duckdb_bind_null")]
    public static partial DuckDbState BindNull(nint statement, ulong index);

    [LibraryImport(Library, EntryPoint = "duckdb_execute_prepared")]
    public static partial DuckDbState ExecutePrepared(nint statement, DuckDbResultStruct* result);

    [LibraryImport(Library, EntryPoint = "duckdb_pending_prepared_streaming")]
    public static partial DuckDbState PendingPreparedStreaming(nint statement, out nint pending);

    [LibraryImport(Library, EntryPoint = "duckdb_pending_prepared")]
    public static partial DuckDbState PendingPrepared(nint statement, out nint pending);

    [LibraryImport(Library, EntryPoint = "duckdb_pending_error")]
    public static partial nint PendingError(nint pending);

    [LibraryImport(Library, EntryPoint = "duckdb_pending_execute_task")]
    public static partial DuckDbPendingState PendingExecuteTask(nint pending);

    [LibraryImport(Library, EntryPoint = "duckdb_execute_pending")]
    public static partial DuckDbState ExecutePending(nint pending, DuckDbResultStruct* result);

    [LibraryImport(Library, EntryPoint = "duckdb_destroy_pending")]
    public static partial void DestroyPending(ref nint pending);

    [LibraryImport(Library, EntryPoint = "duckdb_data_chunk_get_size")]
    public static partial ulong DataChunkGetSize(nint chunk);

    [LibraryImport(Library, EntryPoint = "duckdb_data_chunk_get_vector")]
    public static partial nint DataChunkGetVector(nint chunk, ulong column);

    [LibraryImport(Library, EntryPoint = "duckdb_destroy_data_chunk")]
    public static partial void DestroyDataChunk(ref nint chunk);

    [LibraryImport(Library, EntryPoint = "duckdb_vector_get_data")]
    public static partial void* VectorGetData(nint vector);

    [LibraryImport(Library, EntryPoint = "duckdb_vector_get_validity")]
    public static partial ulong* VectorGetValidity(nint vector);

    [LibraryImport(Library, EntryPoint = "duckdb_list_vector_get_child")]
    public static partial nint ListVectorGetChild(nint vector);

    [LibraryImport(Library, EntryPoint = "duckdb_appender_create", StringMarshalling = StringMarshalling.Utf8)]
    public static partial DuckDbState AppenderCreate(nint connection, string? schema, string table, out nint appender);

    [LibraryImport(Library, EntryPoint = "duckdb_appender_error")]
    public static partial nint AppenderError(nint appender);

    [LibraryImport(Library, EntryPoint = "duckdb_appender_flush")]
    public static partial DuckDbState AppenderFlush(nint appender);

    [LibraryImport(Library, EntryPoint = "duckdb_appender_close")]
    public static partial DuckDbState AppenderClose(nint appender);

    [LibraryImport(Library, EntryPoint = "duckdb_appender_destroy")]
    public static partial DuckDbState AppenderDestroy(ref nint appender);

    [LibraryImport(Library, EntryPoint = "duckdb_appender_end_row")]
    public static partial DuckDbState AppenderEndRow(nint appender);

    [LibraryImport(Library, EntryPoint = "duckdb_append_bool")]
    public static partial DuckDbState AppendBool(nint appender, [MarshalAs(UnmanagedType.U1)] bool value);

    [LibraryImport(Library, EntryPoint = "duckdb_append_int32")]
    public static partial DuckDbState AppendInt32(nint appender, int value);

    [LibraryImport(Library, EntryPoint = "duckdb_append_int64")]
    public static partial DuckDbState AppendInt64(nint appender, long value);

    [LibraryImport(Library, EntryPoint = "duckdb_append_float")]
    public static partial DuckDbState AppendFloat(nint appender, float value);

    [LibraryImport(Library, EntryPoint = "duckdb_append_double")]
    public static partial DuckDbState AppendDouble(nint appender, double value);

    [LibraryImport(Library, EntryPoint = "duckdb_append_varchar_length")]
    public static partial DuckDbState AppendVarcharLength(nint appender, byte* value, ulong length);

    [LibraryImport(Library, EntryPoint = "duckdb_append_blob")]
    public static partial DuckDbState AppendBlob(nint appender, byte* value, ulong length);

    [LibraryImport(Library, EntryPoint = "duckdb_append_timestamp")]
    public static partial DuckDbState AppendTimestamp(nint appender, long micros);

    [LibraryImport(Library, EntryPoint = "duckdb_append_null")]
    public static partial DuckDbState AppendNull(nint appender);

    /// <summary>Reads a NUL-terminated UTF-8 string owned by DuckDB.</summary>
    public static string? Utf8(nint pointer) => pointer == 0 ? null : Marshal.PtrToStringUTF8(pointer);
}
