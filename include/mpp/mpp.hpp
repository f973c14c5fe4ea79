#pragma once
// mpp: Python's multiprocessing model on MPI. Include this one header.
#include "mpp/async_result.hpp"
#include "mpp/callbacks.hpp"
#include "mpp/errors.hpp"
#include "mpp/imap.hpp"
#include "mpp/lock.hpp"
#include "mpp/pool.hpp"
#include "mpp/process_info.hpp"
#include "mpp/serialization.hpp"
#include "mpp/session.hpp"
#include "mpp/shared.hpp"
#include "mpp/sync.hpp"
