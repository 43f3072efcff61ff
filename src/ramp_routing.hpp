// Routing new keys by the ramp: the version that owns a key, for the routing
// tagging trigger and rollout_route(), and the key's bucket under the ramp's
// scheme, for rollout_route_bucket() and the load balancers.
#pragma once

#include "core/routing.hpp"
#include "core/version.hpp"
#include "postgres_headers.hpp"

// The version that owns a new key under the current ramp, by the ramp's
// routing scheme; raises an error when no ramp is set.
rollout::Version route_key(Oid extension_namespace, const char *key, size_t len);

// The current ramp's routing scheme; murmur3 when no ramp is set.
rollout::RoutingScheme current_routing_scheme(Oid extension_namespace);
