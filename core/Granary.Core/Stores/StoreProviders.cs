using Granary.Offline;
using Granary.Online;
using Granary.Registry;
using Granary.Repository;

namespace Granary.Stores;

/// <summary>
/// What a store needs to open, as the host resolved it from granary.yaml and its overrides: paths are absolute, the
/// connection string is the one to use.
/// </summary>
public sealed record StoreSettings
{
    /// <summary>The feature repository folder (absolute); relative file sources are read against it.</summary>
    public required string RepositoryRoot { get; init; }
    /// <summary>The store's file, for embedded engines (absolute).</summary>
    public string? Path { get; init; }
    /// <summary>The store's connection string, for networked engines.</summary>
    public string? ConnectionString { get; init; }
    /// <summary>Online rows expire this long after their last write; null never (online stores only).</summary>
    public TimeSpan? KeyTtl { get; init; }
    /// <summary>The clock the store stamps its records with.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>One registry engine a host can run; the host picks the one whose <see cref="Kind"/> granary.yaml names.</summary>
public interface IRegistryStoreProvider
{
    /// <summary>The granary.yaml <c>registry.type</c> it serves.</summary>
    RegistryStoreKind Kind { get; }

    /// <summary>Creates the store (its schema is created later, by <see cref="IRegistryStore.InitializeAsync"/>).</summary>
    IRegistryStore Create(StoreSettings settings);
}

/// <summary>One online engine a host can run; the host opens the one whose <see cref="Kind"/> granary.yaml names.</summary>
public interface IOnlineStoreProvider
{
    /// <summary>The granary.yaml <c>online_store.type</c> it serves.</summary>
    OnlineStoreKind Kind { get; }

    /// <summary>Connects to or opens the store.</summary>
    Task<IOnlineStore> OpenAsync(StoreSettings settings, CancellationToken cancellationToken);
}

/// <summary>
/// One offline engine a host can run. The host creates the one whose <see cref="Kind"/> granary.yaml names, plus every
/// engine that <see cref="ServesFileSources"/> (file sources are read whatever <c>offline_store</c> says).
/// </summary>
public interface IOfflineStoreProvider
{
    /// <summary>The granary.yaml <c>offline_store.type</c> it serves.</summary>
    OfflineStoreKind Kind { get; }

    /// <summary>Whether it reads the repository's file sources, and so runs in every host that has it.</summary>
    bool ServesFileSources { get; }

    /// <summary>Creates the store.</summary>
    IOfflineStore Create(StoreSettings settings);
}
