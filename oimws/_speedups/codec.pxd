cdef class Request:
    cdef readonly str func_name
    cdef readonly str operation_id
    cdef readonly str user_id
    cdef readonly str data


cpdef Request decode_request(object payload)
cpdef list decode_args(str data)
cpdef bytes encode_response(str event, long err_code, str err_msg, bytes data_json,
                            str operation_id)
cpdef bytes encode_push(str event, bytes data_json)
